import { Router } from 'express';
import type { QueryStore } from '../store/queryStore';

export function queryRoutes(store: QueryStore): Router {
  const router = Router();
  router.get('/posts', (_req, res) => {
    res.json(store.toRecord());
  });
  return router;
}
