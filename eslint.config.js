import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.augur/**', 'bench/results/**', 'coverage/**'] },
  js.configs.recommended,
  {
    files: ['**/*.js', '**/*.mjs'],
    ignores: ['dashboard/**'],
    languageOptions: { globals: globals.node, ecmaVersion: 2023, sourceType: 'module' },
  },
  {
    // The dashboard's browser code, served as is (no build step): browser globals only.
    files: ['dashboard/**/*.js'],
    languageOptions: { globals: globals.browser, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The page builds its DOM from text: markup parsed from strings could run what the API says.
      'no-restricted-properties': [
        'error',
        { property: 'innerHTML', message: 'build the DOM with dom.js (text only)' },
        { property: 'outerHTML', message: 'build the DOM with dom.js (text only)' },
        { property: 'insertAdjacentHTML', message: 'build the DOM with dom.js (text only)' },
        { object: 'document', property: 'write', message: 'build the DOM with dom.js (text only)' },
      ],
      'no-eval': 'error',
      'no-implied-eval': 'error',
    },
  },
  {
    files: ['src/**/*.ts', 'test/**/*.ts'],
    extends: [...tseslint.configs.recommendedTypeChecked],
    plugins: { 'import-x': importX },
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['vitest.config.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
      globals: globals.node,
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
    },
  },
);
