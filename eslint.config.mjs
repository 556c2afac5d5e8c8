import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', '.run/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Packages are consumed only through their curated index.
      'no-restricted-imports': ['error', { patterns: [{ group: ['@inner-talk/*/*'], message: 'Import a package through its index only.' }] }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['scripts/**', 'bench/**', '**/*.test.ts', '*.js', '*.mjs'], rules: { 'no-console': 'off' } },
  { files: ['*.js', 'scripts/jest/*.js'], languageOptions: { globals: { module: 'writable', require: 'readonly', jest: 'readonly' } }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
