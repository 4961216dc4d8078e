// ESLint 9 flat config. TypeScript is linted with type information: sources through the
// project service (each file's own package tsconfig), tests through tsconfig.test.json,
// since the packages' build tsconfigs exclude them. Plain .mjs/.js scripts get the JS rules
// only, without type information.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

// Node's globals for the plain-JS scripts (the `globals` package is not a dependency).
const nodeGlobals = Object.fromEntries(
  [
    'AbortController',
    'AbortSignal',
    'Blob',
    'Buffer',
    'URL',
    'URLSearchParams',
    'TextDecoder',
    'TextEncoder',
    'clearImmediate',
    'clearInterval',
    'clearTimeout',
    'console',
    'fetch',
    'FormData',
    'Headers',
    'performance',
    'process',
    'queueMicrotask',
    'Request',
    'Response',
    'setImmediate',
    'setInterval',
    'setTimeout',
    'structuredClone',
  ].map((name) => [name, 'readonly']),
);

const testFiles = ['**/*.test.ts', '**/*.testing.ts', 'tests/**/*.ts'];

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/cdk.out/**', 'bench-data/**', 'data/**', '**/*.config.mjs'],
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      // Async functions without an await are deliberate: Fastify handlers and hooks, and
      // functions that satisfy a Promise-returning interface.
      'require-await': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Rethrowing what a catch caught (typed unknown) is how errors pass through steps.
      '@typescript-eslint/only-throw-error': ['error', { allowThrowingUnknown: true }],
    },
  },
  {
    files: testFiles,
    languageOptions: {
      parserOptions: { projectService: false, project: './tsconfig.test.json', tsconfigRootDir: root },
    },
    rules: {
      // Tests read untyped JSON response bodies on purpose (`Record<string, any>`).
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Helpers hand back a caught error (unknown, narrowed by `!== undefined`) for the test
      // to rethrow as it is.
      '@typescript-eslint/only-throw-error': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js', '**/*.cjs'],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: nodeGlobals },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },
);
