/** Types for pino-roll 4 (it ships none): the parts Troupe uses. */
declare module 'pino-roll' {
  import type { SonicBoom, SonicBoomOpts } from 'sonic-boom';

  interface PinoRollOptions extends Omit<SonicBoomOpts, 'dest'> {
    readonly file: string | (() => string);
    /** A number (MB) or a string with a unit: `b`, `k`, `m`, `g`. */
    readonly size?: number | string;
    readonly frequency?: 'daily' | 'hourly' | number;
    readonly extension?: string;
    readonly symlink?: boolean;
    readonly limit?: { readonly count?: number; readonly removeOtherLogFiles?: boolean };
    readonly dateFormat?: string;
  }

  export default function pinoRoll(options: PinoRollOptions): Promise<SonicBoom>;
}
