export { waitFor } from '@blog/launcher';
