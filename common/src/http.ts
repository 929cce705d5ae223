import express, { type RequestHandler } from 'express';
import { AppError } from './errors';

/** Body limit for the public API: a post or comment is a few KiB at most. */
export const API_BODY_LIMIT = '16kb';
/** Body limit for event deliveries, which may carry a batch of events. */
export const EVENTS_BODY_LIMIT = '1mb';

const requireJsonContentType: RequestHandler = (req, _res, next) => {
  if (!req.is('application/json')) {
    next(new AppError(415, 'expected a JSON body with Content-Type: application/json'));
    return;
  }
  next();
};

/** Refuses non-JSON bodies with 415, then parses JSON objects and arrays up to `limit`. */
export function jsonBody(limit: string): RequestHandler[] {
  return [requireJsonContentType, express.json({ limit, strict: true })];
}
