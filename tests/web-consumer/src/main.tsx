import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';

const params = new URLSearchParams(location.search);
const virtualKey = params.get('key') ?? 'condt_your_virtual_key';
const baseUrl = params.get('server') ?? 'https://api.conduit.im';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App virtualKey={virtualKey} baseUrl={baseUrl} />
  </StrictMode>,
);
