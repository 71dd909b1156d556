// What the viewer and the API say about a model: its name and date. The date is the model's own
// `date` or `created` metadata when a tool wrote one, else the file's modification time.
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadDceNetModel } from '../enhance/model-file.js';
import type { ModelInfo } from './api.js';

/**
 * Reads and validates the model (a file that is not a DCE-Net throws PieError 'model'), then
 * describes it. `shown` is the path as the user wrote it; `file` the one to read.
 */
export async function readModelInfo(file: string, shown: string = file): Promise<ModelInfo> {
  const m = await loadDceNetModel(file, shown);
  const meta = m.metadata;
  const stated = meta.date ?? meta.created;
  const parsed = stated !== undefined && !Number.isNaN(Date.parse(stated)) ? new Date(stated).toISOString() : undefined;
  let date: string | null = parsed ?? null;
  let dateSource: ModelInfo['dateSource'] = parsed ? 'metadata' : null;
  if (!date) {
    const st = await fs.stat(file).catch(() => undefined);
    if (st) { date = st.mtime.toISOString(); dateSource = 'file'; }
  }
  return { path: shown, name: path.basename(file), date, dateSource, trained: meta.trained ?? null };
}
