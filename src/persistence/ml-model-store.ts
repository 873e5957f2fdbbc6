/**
 * The ML model registry on the {@link Database} port (PostgreSQL or PGlite): the `ml_models`
 * table (migration 010). Stores trained models with their ONNX bytes, lists them, promotes a
 * candidate to live (the previous live model of the kind is retired) and rolls back to the
 * model that was live before. At most one live model per kind (a unique partial index).
 * Rows are decoded with TypeBox schemas at the boundary.
 */
import { Type } from 'typebox';
import { Check } from 'typebox/value';
import type { ModelKind, TrainedModel } from '../ml/model.js';
import type { ModelRegistry, ModelSummary, StoredModel } from '../ml/registry.js';
import { ClassNamesJson, FeatureSchemaJson, ModelKindJson, ModelMetricsJson, onnxSha256 } from '../ml/stored-model-json.js';
import type { Database, Queryable } from './database.js';

/** A registry operation that cannot be done (unknown version, nothing to roll back to…). */
export class ModelRegistryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelRegistryError';
  }
}

const StatusJson = Type.Union([Type.Literal('candidate'), Type.Literal('live'), Type.Literal('retired')]);

interface ModelRow {
  version: unknown;
  kind: unknown;
  status: unknown;
  created_ms: unknown;
  promoted_ms: unknown;
  changed_ms: unknown;
  feature_schema_hash: unknown;
  feature_schema?: unknown;
  classes: unknown;
  metrics: unknown;
  from_ms: unknown;
  to_ms: unknown;
  onnx_bytes: unknown;
  onnx_sha256: unknown;
  onnx?: unknown;
}

const SUMMARY_COLUMNS = `version, kind, status,
  (extract(epoch from created_at) * 1000)::bigint AS created_ms,
  (extract(epoch from promoted_at) * 1000)::bigint AS promoted_ms,
  (extract(epoch from status_changed_at) * 1000)::bigint AS changed_ms,
  feature_schema_hash, classes, metrics,
  (extract(epoch from training_from) * 1000)::bigint AS from_ms,
  (extract(epoch from training_to) * 1000)::bigint AS to_ms,
  octet_length(onnx) AS onnx_bytes, onnx_sha256`;

function bad(version: unknown, what: string): ModelRegistryError {
  return new ModelRegistryError(`ml_models row ${String(version)}: ${what} is malformed`);
}

function msOf(value: unknown, version: unknown, what: string): number {
  const ms = Number(value);
  if (value === null || value === undefined || !Number.isFinite(ms)) throw bad(version, what);
  return ms;
}

function decodeSummary(row: ModelRow): ModelSummary {
  const { version } = row;
  if (typeof version !== 'string') throw bad(version, 'version');
  if (!Check(ModelKindJson, row.kind)) throw bad(version, 'kind');
  if (!Check(StatusJson, row.status)) throw bad(version, 'status');
  if (typeof row.feature_schema_hash !== 'string') throw bad(version, 'feature_schema_hash');
  if (!Check(ClassNamesJson, row.classes)) throw bad(version, 'classes');
  if (!Check(ModelMetricsJson, row.metrics)) throw bad(version, 'metrics');
  if (typeof row.onnx_sha256 !== 'string') throw bad(version, 'onnx_sha256');
  return {
    version,
    kind: row.kind,
    status: row.status,
    createdAtMs: msOf(row.created_ms, version, 'created_at'),
    promotedAtMs: row.promoted_ms === null ? null : msOf(row.promoted_ms, version, 'promoted_at'),
    statusChangedAtMs: msOf(row.changed_ms, version, 'status_changed_at'),
    featureSchemaHash: row.feature_schema_hash,
    classes: row.classes,
    metrics: row.metrics,
    trainingWindow: { fromMs: msOf(row.from_ms, version, 'training_from'), toMs: msOf(row.to_ms, version, 'training_to') },
    onnxBytes: msOf(row.onnx_bytes, version, 'onnx length'),
    onnxSha256: row.onnx_sha256,
  };
}

function decodeStored(row: ModelRow): StoredModel {
  const summary = decodeSummary(row);
  if (!Check(FeatureSchemaJson, row.feature_schema)) throw bad(summary.version, 'feature_schema');
  if (!(row.onnx instanceof Uint8Array)) throw bad(summary.version, 'onnx');
  const onnx = new Uint8Array(row.onnx); // a copy: pg hands out a Buffer slice of its pool
  if (onnxSha256(onnx) !== summary.onnxSha256)
    throw new ModelRegistryError(`ml_models row ${summary.version}: the ONNX bytes do not match their sha256 (corrupt)`);
  return { ...summary, featureSchema: row.feature_schema, onnx };
}

/** The version asked for is not in the registry (the API answers 404). */
export class UnknownModelError extends ModelRegistryError {
  constructor(readonly version: string) {
    super(`no model ${version} in the registry (troupe ml list)`);
    this.name = 'UnknownModelError';
  }
}

/** The registry. */
export class MlModelStore implements ModelRegistry {
  constructor(private readonly db: Database) {}

  /** Stores a trained model as a candidate. Throws {@link ModelRegistryError} when the version exists. */
  async register(model: TrainedModel): Promise<ModelSummary> {
    const existing = await this.db.query('SELECT 1 FROM ml_models WHERE version = $1', [model.version]);
    if (existing.length > 0) throw new ModelRegistryError(`model ${model.version} is already registered`);
    await this.db.query(
      `INSERT INTO ml_models (version, kind, feature_schema_hash, feature_schema, classes, metrics, training_from, training_to, onnx, onnx_sha256)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, to_timestamp($7::double precision / 1000), to_timestamp($8::double precision / 1000), $9, $10)`,
      [
        model.version,
        model.kind,
        model.featureSchemaHash,
        JSON.stringify(model.featureSchema),
        JSON.stringify(model.classes),
        JSON.stringify(model.metrics),
        model.trainingWindow.fromMs,
        model.trainingWindow.toMs,
        Buffer.from(model.onnx.buffer, model.onnx.byteOffset, model.onnx.byteLength),
        onnxSha256(model.onnx),
      ],
    );
    return this.summary(model.version);
  }

  /** Every model (optionally of one kind), newest first, without ONNX bytes. */
  async list(kind?: ModelKind): Promise<ModelSummary[]> {
    const rows = await this.db.query<ModelRow>(
      `SELECT ${SUMMARY_COLUMNS} FROM ml_models ${kind === undefined ? '' : 'WHERE kind = $1'} ORDER BY created_at DESC, version DESC`,
      kind === undefined ? [] : [kind],
    );
    return rows.map(decodeSummary);
  }

  /** One model without its bytes; throws {@link ModelRegistryError} when unknown. */
  async summary(version: string, db: Queryable = this.db): Promise<ModelSummary> {
    const [row] = await db.query<ModelRow>(`SELECT ${SUMMARY_COLUMNS} FROM ml_models WHERE version = $1`, [version]);
    if (row === undefined) throw new UnknownModelError(version);
    return decodeSummary(row);
  }

  /** One model with its ONNX bytes; throws {@link ModelRegistryError} when unknown. */
  async get(version: string): Promise<StoredModel> {
    const [row] = await this.db.query<ModelRow>(`SELECT ${SUMMARY_COLUMNS}, feature_schema, onnx FROM ml_models WHERE version = $1`, [version]);
    if (row === undefined) throw new UnknownModelError(version);
    return decodeStored(row);
  }

  /** The live model of a kind, with its bytes, or undefined. */
  async live(kind: ModelKind): Promise<StoredModel | undefined> {
    const [row] = await this.db.query<ModelRow>(`SELECT ${SUMMARY_COLUMNS}, feature_schema, onnx FROM ml_models WHERE kind = $1 AND status = 'live'`, [kind]);
    return row === undefined ? undefined : decodeStored(row);
  }

  /** Makes `version` live (the kind's live model, if another, is retired). Returns the retired one's version. */
  async promote(version: string): Promise<{ readonly promoted: ModelSummary; readonly retired: string | null }> {
    return this.db.transaction(async (tx) => {
      const model = await this.summary(version, tx);
      if (model.status === 'live') throw new ModelRegistryError(`model ${version} is already live`);
      const [previous] = await tx.query<{ version: string }>(`SELECT version FROM ml_models WHERE kind = $1 AND status = 'live' FOR UPDATE`, [model.kind]);
      if (previous) await tx.query(`UPDATE ml_models SET status = 'retired', status_changed_at = now() WHERE version = $1`, [previous.version]);
      await tx.query(`UPDATE ml_models SET status = 'live', promoted_at = clock_timestamp(), status_changed_at = now() WHERE version = $1`, [version]);
      return { promoted: await this.summary(version, tx), retired: previous?.version ?? null };
    });
  }

  /**
   * Retires the kind's live model and makes live again the one promoted before it (the retired
   * model with the latest promotion earlier than the live one's). Repeated rollbacks walk back.
   */
  async rollback(kind: ModelKind): Promise<{ readonly restored: ModelSummary; readonly retired: string }> {
    return this.db.transaction(async (tx) => {
      const [live] = await tx.query<{ version: string }>(`SELECT version FROM ml_models WHERE kind = $1 AND status = 'live' FOR UPDATE`, [kind]);
      if (!live) throw new ModelRegistryError(`no live ${kind} model to roll back`);
      const [previous] = await tx.query<{ version: string }>(
        `SELECT version FROM ml_models
         WHERE kind = $1 AND status = 'retired' AND promoted_at < (SELECT promoted_at FROM ml_models WHERE version = $2)
         ORDER BY promoted_at DESC LIMIT 1`,
        [kind, live.version],
      );
      if (!previous) throw new ModelRegistryError(`no earlier ${kind} model to roll back to (${live.version} is the first that went live)`);
      await tx.query(`UPDATE ml_models SET status = 'retired', status_changed_at = now() WHERE version = $1`, [live.version]);
      await tx.query(`UPDATE ml_models SET status = 'live', status_changed_at = now() WHERE version = $1`, [previous.version]);
      return { restored: await this.summary(previous.version, tx), retired: live.version };
    });
  }
}
