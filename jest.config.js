/** One jest run for every package: unit and supertest suites beside each service, system tests in test/. */
module.exports = {
  // jest's node environment, which also kills any process a failed test left running (see the file).
  testEnvironment: '<rootDir>/test/support/processSafeEnvironment.js',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
    // The client's React components; their tests pick the jsdom environment with a docblock.
    '^.+\\.tsx$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript', tsx: true }, transform: { react: { runtime: 'automatic' } }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  // Service tests run against the shared packages' sources, so they need no build; system tests run the build.
  moduleNameMapper: {
    '^@blog/contracts$': '<rootDir>/contracts/src/index.ts',
    '^@blog/service-kit$': '<rootDir>/service-kit/src/index.ts',
    '^@blog/launcher$': '<rootDir>/launcher/src/index.ts',
  },
  testMatch: ['<rootDir>/*/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts', '<rootDir>/client/web/test/**/*.test.{ts,tsx}'],
  // The container and chaos tiers have their own commands (npm run test:containers, test:chaos) and configs.
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '<rootDir>/test/containers/', '<rootDir>/test/chaos/'],
  testTimeout: 30_000,
};
