import type { RequestListener } from 'node:http';
import request from 'supertest';

export interface BadInputCase {
  name: string;
  body: string;
  contentType?: string;
  status: number;
}

/** The request bodies every JSON endpoint must refuse, with the status each must get. */
export function badJsonBodies(field: string, maxLength: number): BadInputCase[] {
  return [
    { name: 'malformed JSON', body: '{"' + field + '": ', status: 400 },
    { name: 'a JSON string instead of an object', body: '"hello"', status: 400 },
    { name: 'an array', body: '[]', status: 400 },
    { name: 'an empty object', body: '{}', status: 400 },
    { name: `${field} of the wrong type`, body: JSON.stringify({ [field]: 42 }), status: 400 },
    { name: `${field} null`, body: JSON.stringify({ [field]: null }), status: 400 },
    { name: `an empty ${field}`, body: JSON.stringify({ [field]: '' }), status: 400 },
    { name: `a blank ${field}`, body: JSON.stringify({ [field]: '   ' }), status: 400 },
    { name: `a ${field} over ${maxLength} characters`, body: JSON.stringify({ [field]: 'x'.repeat(maxLength + 1) }), status: 400 },
    { name: 'a body over the size limit', body: JSON.stringify({ [field]: 'x'.repeat(100_000) }), status: 413 },
    { name: 'a text/plain body', body: `${field}=hello`, contentType: 'text/plain', status: 415 },
    { name: 'no body at all', body: '', contentType: '', status: 415 },
  ];
}

export async function send(app: RequestListener, path: string, testCase: BadInputCase) {
  const req = request(app).post(path);
  if (testCase.contentType !== '') req.set('Content-Type', testCase.contentType ?? 'application/json');
  return testCase.body === '' ? req : req.send(testCase.body);
}
