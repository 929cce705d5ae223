export { waitFor } from '../../bench/src/waitFor';
