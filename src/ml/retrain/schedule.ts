/** When the next retraining is due, from a schedule in IST wall time. */
import type { RetrainSchedule } from '../../config/ml.js';
import { DAY_MS, IST_OFFSET_MS, MINUTE_MS } from '../../model/time.js';

/** The first time strictly after `nowMs` the schedule fires (epoch ms), or undefined when off. */
export function nextRetrainMs(schedule: RetrainSchedule, nowMs: number): number | undefined {
  if (schedule.kind === 'off') return undefined;
  const localNow = nowMs + IST_OFFSET_MS;
  const localMidnight = Math.floor(localNow / DAY_MS) * DAY_MS;
  for (let day = 0; day <= 7; day++) {
    const localAt = localMidnight + day * DAY_MS + schedule.minuteOfDay * MINUTE_MS;
    if (localAt <= localNow) continue;
    if (schedule.kind === 'weekly' && new Date(localAt).getUTCDay() !== schedule.weekday) continue;
    return localAt - IST_OFFSET_MS;
  }
  return undefined;
}
