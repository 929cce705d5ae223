export * from '../../bench/src/localSystem';
