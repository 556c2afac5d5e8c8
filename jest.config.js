// Two projects: `unit` (fast, still against real Redis/MongoDB where storage is involved) and `e2e`
// (apps started as separate processes). Both need the services that scripts/test.sh starts.
const transform = { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023', parser: { syntax: 'typescript' } } }] };
const common = {
  transform,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  // Workspace packages are linked sources (main: src/index.ts); transform them like our own files.
  transformIgnorePatterns: ['/node_modules/(?!\\.pnpm)'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,packages,scripts}/**/*.test.ts'], testPathIgnorePatterns: ['\\.e2e\\.test\\.ts$', '/node_modules/'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/{apps,packages,scripts}/**/*.e2e.test.ts'], setupFilesAfterEnv: ['<rootDir>/scripts/jest/e2e-timeout.js'] },
  ],
};
