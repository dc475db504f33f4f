// Export (OTLP JSON download) and import (an OTLP JSON file, browsed apart from
// the live app). Loaded when first used.
import { toOtlp, readImportFile, ImportError } from './otlp.js';
import { source, loadTraces } from './model.js';
import { download, toast } from './dom.js';
import { formatCount } from './format.js';

const MAX_EXPORT_TRACES = 1000;

export async function exportTraces(ids, filename) {
  if (!ids.length) { toast('No traces to export.', 'error'); return; }
  const capped = ids.slice(0, MAX_EXPORT_TRACES);
  toast(`Exporting ${formatCount(capped.length)} trace(s)…`);
  try {
    const traces = await loadTraces(capped);
    if (!traces.length) { toast('Nothing to export: the traces are no longer stored.', 'error'); return; }
    download(filename, JSON.stringify(toOtlp(traces)));
    const spans = traces.reduce((n, t) => n + t.spans.length, 0);
    toast(`Exported ${formatCount(traces.length)} trace(s), ${formatCount(spans)} spans${ids.length > capped.length ? ` (first ${MAX_EXPORT_TRACES})` : ''}.`);
  } catch (err) {
    toast(`Export failed: ${err?.message || err}`, 'error');
  }
}

export async function importFile(file) {
  try {
    const traces = await readImportFile(file);
    source.setImported(file.name, traces);
  } catch (err) {
    const msg = err instanceof ImportError ? err.message : `Could not read the file: ${err?.message || err}`;
    toast(`Import failed — ${msg} Nothing was changed.`, 'error');
  }
}
