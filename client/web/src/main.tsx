import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { httpApi } from './api';
import { httpFlowApi } from './flow/flowApi';
import { FlowPage } from './flow/FlowPage';
import type { BlogDeps } from './useBlog';
import './styles.css';
import './flow/flow.css';

const eventSource = typeof EventSource === 'function' ? (url: string) => new EventSource(url) : undefined;

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
// One build, two pages: the client server serves it at / and at /flow.
const onFlowPage = /^\/flow\/?$/.test(window.location.pathname);
if (onFlowPage) document.title = 'Blog: watch the events flow';
const deps: BlogDeps = { api: httpApi(), eventSource };
const flowDeps = { api: httpFlowApi(), eventSource };
createRoot(root).render(<StrictMode>{onFlowPage ? <FlowPage deps={flowDeps} /> : <App deps={deps} />}</StrictMode>);
