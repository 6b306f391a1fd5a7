import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// The three layers import one way only: oauth/ ← commands/ ← cli/ (README, "Development").
const terminalModules = ['chalk', 'open', 'commander']
const layer = (paths) => ({
  'no-restricted-imports': [
    'error',
    { patterns: [{ group: paths, message: 'layering: see README, Development' }] },
  ],
})

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'no-console': 'error',
      // tsc's noFallthroughCasesInSwitch understands calls that return `never`; this rule does not.
      'no-fallthrough': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'set process.exitCode in bin/ instead' },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/io/system.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'only src/io/system.ts reads process' },
      ],
    },
  },
  {
    files: ['src/oauth/**/*.ts', 'src/jwt/**/*.ts'],
    rules: layer([
      ...terminalModules,
      '**/io/*',
      '**/cli/*',
      '**/commands/*',
      '**/net/*',
      '**/sandbox/*',
    ]),
  },
  { files: ['src/commands/**/*.ts'], rules: layer(['commander', '**/cli/*']) },
  { files: ['src/net/**/*.ts'], rules: layer(['chalk', 'commander', '**/cli/*', '**/commands/*']) },
  {
    files: ['src/sandbox/**/*.ts'],
    rules: layer(['chalk', 'commander', '**/cli/*', '**/commands/*']),
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.mjs', 'test/**/*.mjs'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
)
