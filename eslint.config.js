import js from '@eslint/js';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'drover-data/', 'web/dist/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    plugins: { 'import-x': importX },
    rules: {
      'import-x/order': [
        'error',
        {
          groups: ['builtin', 'external', 'internal', 'parent', 'sibling'],
          alphabetize: { order: 'asc' },
          'newlines-between': 'never',
        },
      ],
      'import-x/no-cycle': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The arrows of docs/architecture.md: the layers below know nothing of the faces above, and
  // no face calls another. Imports are resolved (`./x.js` is `./x.ts`), so the zones compare
  // real files, whatever the relative path says.
  {
    files: ['src/**/*.ts'],
    settings: {
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.js'],
          extensionAlias: { '.js': ['.ts', '.js'] },
        }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          basePath: import.meta.dirname,
          zones: [
            {
              target: 'src/domain',
              from: ['src/store', 'src/engine', 'src/api', 'src/formats'],
              message: 'The domain is pure: it imports no other layer.',
            },
            {
              target: 'src/store',
              from: ['src/engine', 'src/api', 'src/formats'],
              message: 'The store knows no engine, face or format.',
            },
            {
              target: 'src/engine',
              from: ['src/api', 'src/formats'],
              message:
                'The engine knows no face or format: a format reaches it through JobDefinitionFormat.',
            },
            {
              target: 'src/formats',
              from: 'src/api',
              message: 'A format is translated for every face; it imports none.',
            },
            ...['native', 'deadline', 'ufdl', 'scale'].map((face) => ({
              target: `src/api/${face}`,
              from: ['native', 'deadline', 'ufdl', 'scale']
                .filter((other) => other !== face)
                .map((other) => `src/api/${other}`),
              message: 'No face calls another: share through the engine or src/api/*.ts.',
            })),
          ],
        },
      ],
    },
  },
  // The web UI runs in the browser.
  { files: ['web/**/*.{ts,tsx}'], languageOptions: { globals: globals.browser } },
);
