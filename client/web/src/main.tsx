import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { httpApi } from './api';
import type { BlogDeps } from './useBlog';
import './styles.css';

const deps: BlogDeps = {
  api: httpApi(),
  eventSource: typeof EventSource === 'function' ? (url) => new EventSource(url) : undefined,
};

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App deps={deps} />
  </StrictMode>,
);
