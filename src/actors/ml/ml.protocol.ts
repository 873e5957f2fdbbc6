import type { ActorRef, PipeResult } from '../core/index.js';
import type { Bar, Prediction } from '../../model/index.js';
import type { ActiveModel } from '../../ml/model-source.js';

/**
 * Protocol of an ML actor (`/ml/<kind>`, one per model kind). Closed bars of every symbol
 * arrive through an inlet the symbol actors feed; the actor keeps each symbol's feature state,
 * runs the model once per batch of closed bars across all symbols whose bar closed (one ONNX
 * run, never awaited in a handler: the run is piped back as a message) and hands the
 * predictions to the runtime, which publishes `PredictionMade` and tells the subscribed
 * strategies. Not persisted: a restarted actor loads the live model again with the stored bars
 * its features need (when its source gives them) and warms up on those.
 */
export type MlCommand =
  /** Bars closed since the actor last ran (any symbols, any intervals; only the model's interval is used). From the bar inlet. */
  | { readonly type: 'BarsClosed'; readonly bars: readonly Bar[] }
  /** Load the live model again (a promotion or rollback); sent by the ML service or the API. Replies nothing. */
  | { readonly type: 'ReloadModel'; readonly reason: string }
  /** Replies with {@link MlStatus}. */
  | { readonly type: 'GetMlStatus'; readonly replyTo: ActorRef<MlStatus> }
  | MlInternal;

/** Private: results of the actor's own async work (`pipeToSelf`). Nobody else sends these. */
export type MlInternal =
  | { readonly type: 'ModelLoaded'; readonly loadId: number; readonly result: PipeResult<ActiveModel | undefined> }
  | { readonly type: 'PredictionsDone'; readonly runId: number; readonly result: PipeResult<readonly Float32Array[]> };

/** What the actor reports (the API's models page shows it). */
export interface MlStatus {
  readonly kind: string;
  /** The model predicting now, or null (none live, or refused). */
  readonly modelVersion: string | null;
  readonly interval: string | null;
  /** Why the last load failed (a schema mismatch names both hashes), or null. */
  readonly lastError: string | null;
  readonly loading: boolean;
  /** Symbols with feature state, and how many of them are past the warm-up. */
  readonly symbols: number;
  readonly warmSymbols: number;
  readonly stats: MlStats;
}

/** Counters since the actor started. */
export interface MlStats {
  /** Live bars of the model's interval fed to the features. */
  bars: number;
  /** Stored bars fed to the features at a (re)start of them (the warm-up). */
  warmupBars: number;
  /** Bars ignored: no model loaded, another interval, or out of order (counted, never silent). */
  ignoredBars: number;
  outOfOrderBars: number;
  /** ONNX runs and the predictions they made. */
  runs: number;
  predictions: number;
  /** Rows of the largest run. */
  largestRun: number;
  /** Failed runs and failed loads. */
  runFailures: number;
  loadFailures: number;
  /** Models loaded (the first and every reload that changed it). */
  loads: number;
}

/** Wraps a batch of bars from the ML actor's inlet. */
export const wrapMlBars = (bars: readonly Bar[]): MlCommand => ({ type: 'BarsClosed', bars });

/** Re-exported for the actor's users. */
export type { Prediction };
