-- Troupe schema, version 10: the ML model registry (src/persistence/ml-model-store.ts).
-- Runs on PostgreSQL 15 and on PGlite. Never edit after release: add a new NNN_name.sql instead.

-- One row per trained model: its ONNX bytes, the feature schema it was trained on (a model whose
-- hash differs from the running feature definition is refused at load), its out-of-sample
-- metrics and training window. Status: candidate (trained, not used) → live (at most one per
-- kind) → retired (replaced or rolled back). promoted_at: when it last became live by a
-- promotion (a rollback restores the previous model without moving it, so rollbacks walk back).
CREATE TABLE ml_models (
  version             text PRIMARY KEY,
  kind                text NOT NULL CHECK (kind IN ('random-forest', 'lstm')),
  created_at          timestamptz NOT NULL DEFAULT now(),
  status              text NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'live', 'retired')),
  promoted_at         timestamptz,
  status_changed_at   timestamptz NOT NULL DEFAULT now(),
  feature_schema_hash text NOT NULL,
  feature_schema      jsonb NOT NULL,
  classes             jsonb NOT NULL,
  metrics             jsonb NOT NULL,
  training_from       timestamptz NOT NULL,
  training_to         timestamptz NOT NULL,
  onnx                bytea NOT NULL,
  onnx_sha256         text NOT NULL,
  CHECK (status = 'candidate' OR promoted_at IS NOT NULL)
);
CREATE UNIQUE INDEX ml_models_one_live ON ml_models (kind) WHERE status = 'live';
CREATE INDEX ml_models_kind_created ON ml_models (kind, created_at DESC);
