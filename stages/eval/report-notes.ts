/**
 * Notes that evaluation stages leave for the report sinks (artifact
 * "report:notes"): one line per metric saying how it was measured, e.g. which
 * reward model judged avg_reward. comparison_table adds the notes of the
 * metrics it shows to its caption.
 */
import { ARTIFACT, type ArtifactMap } from '../core/artifacts.js';

export const REPORT_NOTES_ARTIFACT = ARTIFACT.reportNotes;

export interface ReportNote {
  metric: string;
  text: string;
}

/** Add (or replace, for the same metric and text) a note. */
export function addReportNote(artifacts: ArtifactMap, note: ReportNote): void {
  const notes = reportNotes(artifacts).filter((n) => !(n.metric === note.metric && n.text === note.text));
  artifacts.set(REPORT_NOTES_ARTIFACT, [...notes, note]);
}

export function reportNotes(artifacts: ArtifactMap): ReportNote[] {
  const a: unknown = artifacts.get(REPORT_NOTES_ARTIFACT);
  return Array.isArray(a) ? (a as ReportNote[]) : [];
}

/** The texts of the notes about any of `metrics`, in the order they were added. */
export function notesFor(artifacts: ArtifactMap, metrics: readonly string[]): string[] {
  return reportNotes(artifacts)
    .filter((n) => metrics.includes(n.metric))
    .map((n) => n.text);
}
