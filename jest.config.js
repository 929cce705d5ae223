/** One jest run for every package: unit and supertest suites beside each service, system tests in test/. */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // Service tests run against common's sources, so they need no build; system tests run the build.
  moduleNameMapper: { '^@blog/common$': '<rootDir>/common/src/index.ts' },
  testMatch: ['<rootDir>/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  // The container tier has its own command (npm run test:containers) and config.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/containers/'],
  testTimeout: 30_000,
};
