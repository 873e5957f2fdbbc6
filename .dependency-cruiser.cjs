/** Module boundaries (see docs/ARCHITECTURE.md). `npm run lint` enforces them. */
/**
 * The layers, bottom to top (docs/ARCHITECTURE.md, "Layers"). A folder may import its own
 * layer's modules only inside itself, and lower layers freely; never a higher one.
 */
const LAYERS = [
  ['model'],
  ['actors/core', 'config', 'features', 'regime', 'risk', 'signals', 'strategies', 'streams'],
  ['ml', 'notifications'],
  ['actors'],
  ['runtime'],
  ['persistence', 'brokers'],
  ['gateway', 'backtest', 'wiring'],
  ['app', 'kite-app', 'main', 'cli', 'sim'],
];
const folderPattern = (folder) => (folder.includes('/') || !['app', 'kite-app', 'main'].includes(folder) ? `^src/${folder}/` : `^src/${folder}\\.ts$`);
/**
 * Arrows that still run up, each to be moved down (issue #16): they are warnings, so they show
 * on every run; everything else is an error. Remove an entry once its imports are gone.
 */
const STILL_UP = {
  config: ['notifications'],
  notifications: ['runtime'],
  ml: ['persistence'],
  actors: ['runtime', 'persistence', 'brokers'],
  runtime: ['persistence', 'brokers'],
  persistence: ['gateway', 'brokers'],
  brokers: ['persistence'],
};
const layerRules = LAYERS.flatMap((layer, rank) =>
  layer.map((folder) => {
    // the top layer's entry points may use one another (main starts app; sim has a CLI)
    const above = (rank === LAYERS.length - 1 ? [] : LAYERS.slice(rank).flat()).filter(
      (other) => other !== folder && !(folder === 'actors' && other === 'actors/core'),
    );
    const known = STILL_UP[folder] ?? [];
    const strict = above.filter((other) => !known.includes(other));
    const from = folder === 'actors' ? { path: '^src/actors/', pathNot: '^src/actors/core/' } : { path: folderPattern(folder) };
    const rules = [];
    if (strict.length > 0)
      rules.push({
        name: `layer-${folder.replace('/', '-')}`,
        comment: `${folder} sits below ${strict.join(', ')}: it never imports them.`,
        severity: 'error',
        from,
        to: { path: strict.map(folderPattern), pathNot: folderPattern(folder) },
      });
    if (known.length > 0)
      rules.push({
        name: `layer-${folder.replace('/', '-')}-still-up`,
        comment: `${folder} still imports ${known.join(', ')} above it (to be moved down).`,
        severity: 'warn',
        from,
        to: { path: known.map(folderPattern) },
      });
    return rules;
  }),
).flat();

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'gateway-through-the-facade',
      comment: 'The gateway talks to the runtime through RuntimeFacade (queries, commands, events), never to the actor system, the directory or an actor.',
      severity: 'error',
      from: { path: '^src/gateway/' },
      to: { path: ['^src/actors/', '^src/runtime/(runtime|directory|event-bus|market-cache|clock)\\.ts$'] },
    },
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
