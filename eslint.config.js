// Lint rules: typescript-eslint's recommended set (syntax-level, fast), with the
// few project conventions relaxed where they are deliberate.
import tseslint from 'typescript-eslint';

export default tseslint.config({ ignores: ['dist/**', 'node_modules/**', 'runs/**', '.bench/**', 'data/**'] }, ...tseslint.configs.recommended, {
  rules: {
    // `_`-prefixed names mark deliberately unused arguments.
    '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
  },
});
