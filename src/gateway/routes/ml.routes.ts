import { Type, type Static } from 'typebox';
import { ModelRegistryError, UnknownModelError } from '../../persistence/ml-model-store.js';
import { type ModelSummary } from '../../ml/registry.js';
import type { MlControl } from '../../runtime/ml-service.js';
import type { GatewayContext, GatewayInstance } from '../context.js';
import { ApiError } from '../errors.js';
import { routeGroup } from './declare-routes.js';

/** Every ML route answers 409 while ML is off in this process. */
const mlRoute = routeGroup('ml', [401, 403, 409, 429]);
const VersionParams = Type.Object({ version: Type.String({ minLength: 1, maxLength: 200 }) });

const ModelSchema = Type.Object({
  version: Type.String(),
  kind: Type.String(),
  status: Type.Union([Type.Literal('candidate'), Type.Literal('live'), Type.Literal('retired')]),
  createdAtMs: Type.Number(),
  promotedAtMs: Type.Union([Type.Number(), Type.Null()]),
  featureSchemaHash: Type.String(),
  classes: Type.Array(Type.String()),
  trainingWindow: Type.Object({ fromMs: Type.Number(), toMs: Type.Number() }),
  onnxBytes: Type.Number(),
  metrics: Type.Object(
    {
      samples: Type.Union([Type.Number(), Type.Null()]),
      accuracy: Type.Union([Type.Number(), Type.Null()]),
      brier: Type.Union([Type.Number(), Type.Null()]),
      logLoss: Type.Union([Type.Number(), Type.Null()]),
      ece: Type.Union([Type.Number(), Type.Null()]),
      baselineAccuracy: Type.Union([Type.Number(), Type.Null()]),
      retraining: Type.Union([Type.String(), Type.Null()], { description: 'the shadow evaluation’s verdict, for retrained models' }),
    },
    { description: 'out-of-sample figures on the held-out window' },
  ),
});

const StatusSchema = Type.Object({
  mode: Type.String(),
  kind: Type.String(),
  actor: Type.Union([Type.Unknown(), Type.Null()], {
    description: 'the ML actor: model loaded, last error (a refused schema), symbols warm, runs, predictions',
  }),
  retraining: Type.Unknown({ description: 'schedule, next run, progress of the running one, the last outcome or error' }),
});

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

function service(ctx: GatewayContext): MlControl {
  if (!ctx.ml) throw new ApiError(409, 'conflict', 'ML is off in this process (TROUPE_ML=off)');
  return ctx.ml;
}

/** A registry entry as the API shows it (no ONNX bytes; metrics that are not finite numbers are null). */
function modelView(model: ModelSummary): Static<typeof ModelSchema> {
  const retraining = model.metrics.retraining as { decision?: unknown } | undefined;
  return {
    version: model.version,
    kind: model.kind,
    status: model.status,
    createdAtMs: model.createdAtMs,
    promotedAtMs: model.promotedAtMs,
    featureSchemaHash: model.featureSchemaHash,
    classes: [...model.classes],
    trainingWindow: model.trainingWindow,
    onnxBytes: model.onnxBytes,
    metrics: {
      samples: num(model.metrics.samples),
      accuracy: num(model.metrics.accuracy),
      brier: num(model.metrics.brier),
      logLoss: num(model.metrics.logLoss),
      ece: num(model.metrics.ece),
      baselineAccuracy: num(model.metrics.baselineAccuracy),
      retraining: typeof retraining?.decision === 'string' ? retraining.decision : null,
    },
  };
}

/** An unknown version is a 404; other registry refusals (nothing to roll back, already live) are 409s; both with the registry's message. */
function registryError(error: unknown): never {
  if (error instanceof UnknownModelError) throw new ApiError(404, 'not-found', error.message);
  if (error instanceof ModelRegistryError) throw new ApiError(409, 'conflict', error.message);
  throw error;
}

/**
 * The Models page's API: the registry (list with metrics), the ML actor's and the retraining's
 * status, promote and rollback (admins; the ML actor loads the new live model at once) and a
 * retraining started by hand.
 */
export function mlRoutes(app: GatewayInstance, ctx: GatewayContext): Promise<void> {
  app.get(
    '/api/v1/ml/models',
    mlRoute('viewer', {
      summary: 'Registered ML models, newest first, with their out-of-sample metrics',
      response: { 200: Type.Object({ items: Type.Array(ModelSchema) }) },
    }),
    async () => {
      const models = await service(ctx).list();
      return {
        items: models.map(modelView),
      };
    },
  );

  app.get(
    '/api/v1/ml/models/:version',
    mlRoute('viewer', {
      summary: 'One registered model with its out-of-sample metrics',
      params: VersionParams,
      response: { 200: ModelSchema },
      errors: [404],
    }),
    async (request) => modelView(await service(ctx).summary(request.params.version).catch(registryError)),
  );

  app.get(
    '/api/v1/ml/status',
    mlRoute('viewer', {
      summary: 'The ML actor (active version, warm symbols, predictions) and the retraining (schedule, progress, last outcome)',
      response: { 200: StatusSchema },
    }),
    async () => service(ctx).status(),
  );

  app.post(
    '/api/v1/ml/models/:version/promote',
    mlRoute('admin', {
      summary: 'Make a model live (the live one of its kind is retired); the ML actor loads it now',
      params: VersionParams,
      response: { 200: Type.Object({ promoted: Type.String(), retired: Type.Union([Type.String(), Type.Null()]) }) },
      errors: [404],
    }),
    async (request) => {
      const { version } = request.params;
      const result = await service(ctx).promote(version).catch(registryError);
      ctx.record(request, { action: 'ml.promote', target: version, outcome: 'ok' });
      return { promoted: result.promoted.version, retired: result.retired };
    },
  );

  app.post(
    '/api/v1/ml/rollback',
    mlRoute('admin', {
      summary: 'Back to the model that was live before; the ML actor loads it now',
      response: { 200: Type.Object({ restored: Type.String(), retired: Type.String() }) },
    }),
    async (request) => {
      const result = await service(ctx).rollback().catch(registryError);
      ctx.record(request, { action: 'ml.rollback', target: result.restored.version, outcome: 'ok' });
      return { restored: result.restored.version, retired: result.retired };
    },
  );

  app.post(
    '/api/v1/ml/retrain',
    mlRoute('admin', {
      summary: 'Start a retraining now (in a child process); follow it in GET /api/v1/ml/status',
      response: { 202: Type.Object({ started: Type.Boolean() }) },
    }),
    async (request, reply) => {
      const ml = service(ctx);
      if ((await ml.status()).retraining.running) throw new ApiError(409, 'conflict', 'a retraining is already running');
      await ml.startRetraining(); // its progress, outcome or error are in the status
      ctx.record(request, { action: 'ml.retrain', outcome: 'ok' });
      return reply.code(202).send({ started: true });
    },
  );
  return Promise.resolve();
}
