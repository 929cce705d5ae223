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
  // The container and chaos tiers have their own commands (npm run test:containers, test:chaos) and configs.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/containers/', '<rootDir>/test/chaos/'],
  testTimeout: 30_000,
};
