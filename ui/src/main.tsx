import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('root');
if (root) {
  // same origin: the gateway serves the desk and the API
  createRoot(root).render(
    <StrictMode>
      <App baseUrl={window.location.origin} />
    </StrictMode>,
  );
}
