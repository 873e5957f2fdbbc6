/** Module boundaries (see docs/ARCHITECTURE.md). `npm run lint` enforces them. */
module.exports = {
  forbidden: [
    {
      name: 'only-core-imports-nact',
      comment: 'nact is wrapped by src/actors/core; everything else uses typed refs.',
      severity: 'error',
      from: { pathNot: '^src/actors/core/' },
      to: { path: 'node_modules/nact' },
    },
    {
      name: 'model-is-pure',
      comment: 'src/model is the pure domain: no I/O, no runtime, no third-party packages.',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { pathNot: '^src/model/' },
    },
    {
      name: 'strategies-are-plugins',
      comment: 'Strategies see only the model and the strategy API; never a broker, an actor or I/O.',
      severity: 'error',
      from: { path: '^src/strategies/' },
      to: { pathNot: ['^src/strategies/', '^src/model/', '^node_modules/trading-signals', '^node_modules/typebox'] },
    },
    {
      name: 'features-are-pure',
      comment: 'The feature set (shared with the ML service) computes from the model only.',
      severity: 'error',
      from: { path: '^src/features/' },
      to: { pathNot: ['^src/features/', '^src/model/', '^node_modules/trading-signals'] },
    },
    {
      name: 'decision-logic-is-pure',
      comment: 'Risk, regime and signal logic are pure functions of the model: the actors around them do the I/O.',
      severity: 'error',
      from: { path: '^src/(risk|regime|signals)/' },
      to: { pathNot: ['^src/(risk|regime|signals)/', '^src/model/'] },
    },
    {
      name: 'ml-is-below-the-actors',
      comment: 'src/ml (features, labels, training, ONNX export and inference) is plain modules: no actors, runtime, gateway or CLI; the ML actor will use it.',
      severity: 'error',
      from: { path: '^src/ml/' },
      to: { path: ['^src/(actors|runtime|gateway|strategies|brokers|backtest|cli|sim)/', 'node_modules/nact'] },
    },
    {
      name: 'src-never-imports-test',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
