import fs from 'node:fs';
import path from 'node:path';
import express, { Router, type RequestHandler } from 'express';

/**
 * The page's own policy, in place of helmet's default: the same sources (only this origin, no inline
 * script), without `upgrade-insecure-requests`, which would make a browser fetch the scripts over https
 * from a plain-http NodePort or port-forward and so show a blank page.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "base-uri 'self'",
  "connect-src 'self'",
  "font-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "img-src 'self' data:",
  "object-src 'none'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self'",
].join('; ');

const pagePolicy: RequestHandler = (_req, res, next) => {
  res.setHeader('content-security-policy', PAGE_CSP);
  next();
};

/** Whether `dir` holds a Vite build (its index.html). */
export function hasBuild(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'index.html'));
}

/**
 * Serves the Vite build in `dir`: the page itself is revalidated on every load (so a new build shows at
 * once), while `assets/`, whose names carry a hash of their content, are cached for a year as immutable.
 */
export function staticRoutes(dir: string): Router {
  const router = Router();
  router.use(pagePolicy);
  router.use(
    '/assets',
    express.static(path.join(dir, 'assets'), { index: false, immutable: true, maxAge: '365d', redirect: false }),
  );
  // The blog and the flow page are one build: the page picks what to show from its path.
  router.get(['/', '/index.html', '/flow'], (_req, res, next) => {
    if (!hasBuild(dir)) {
      res.status(503).json({ error: 'the page is not built: run "npm run build -w client"', details: [] });
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile('index.html', { root: dir }, (error) => error && next(error));
  });
  // Other files of the build (the icon): not hashed, so cached briefly.
  router.use(express.static(dir, { index: false, maxAge: '1h', redirect: false }));
  return router;
}
