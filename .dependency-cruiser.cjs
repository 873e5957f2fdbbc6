/** Module boundaries (see docs/ARCHITECTURE.md). `npm run lint` enforces them. */
/**
 * The layers, bottom to top (docs/ARCHITECTURE.md, "Layers"). A folder may import its own
 * layer's modules only inside itself, and lower layers freely; never a higher one. Every rule
 * made from this table is an error: nothing runs back up.
 */
const LAYERS = [
  ['model'],
  ['actors/core', 'config', 'features', 'regime', 'risk', 'signals', 'strategies', 'streams'],
  ['observability'],
  ['ml', 'notifications'],
  ['actors'],
  ['brokers'],
  ['persistence'],
  ['runtime'],
  ['gateway', 'backtest', 'wiring'],
  ['app', 'demo', 'main', 'cli', 'sim', 'gateway-thread'],
];
/** Entry points that are single files in src/ rather than folders. */
const FILES = ['app', 'demo', 'main'];
const folderPattern = (folder) => (FILES.includes(folder) ? `^src/${folder}\\.ts$` : `^src/${folder}/`);
const layerRules = LAYERS.flatMap((layer, rank) =>
  layer.map((folder) => {
    // the top layer's entry points may use one another (main starts app; sim has a CLI)
    const above = (rank === LAYERS.length - 1 ? [] : LAYERS.slice(rank).flat()).filter(
      (other) => other !== folder && !(folder === 'actors' && other === 'actors/core'),
    );
    const from = folder === 'actors' ? { path: '^src/actors/', pathNot: '^src/actors/core/' } : { path: folderPattern(folder) };
    return above.length === 0
      ? []
      : [
          {
            name: `layer-${folder.replace('/', '-')}`,
            comment: `${folder} sits below ${above.join(', ')}: it never imports them.`,
            severity: 'error',
            from,
            to: { path: above.map(folderPattern), pathNot: folderPattern(folder) },
          },
        ];
  }),
).flat();

/** A folder missing from LAYERS would escape every layer rule: nothing imports it, and it imports nothing. */
const listed = LAYERS.flat().map(folderPattern);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'layer-every-folder-listed',
      comment: 'Every folder (and entry file) of src/ has a place in LAYERS, so the layer rules cover it.',
      severity: 'error',
      from: { path: '^src/', pathNot: listed },
      to: {},
    },
    {
      name: 'layer-every-import-listed',
      comment: 'Every folder (and entry file) of src/ has a place in LAYERS, so the layer rules cover it.',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: listed },
    },
    {
      name: 'gateway-through-the-facade',
      comment:
        'The gateway talks to the runtime through RuntimeFacade (queries, commands, events), never to the actor system, the directory, the bus or an actor.',
      severity: 'error',
      from: { path: '^src/gateway/' },
      to: { path: ['^src/actors/', '^src/runtime/(runtime|clock)\\.ts$', '^src/observability/event-bus\\.ts$'] },
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
