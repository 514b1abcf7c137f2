import { createHash } from 'node:crypto';
import BayesClassifier from 'natural/lib/natural/classifiers/bayes_classifier.js';
import LogisticRegressionClassifier from 'natural/lib/natural/classifiers/logistic_regression_classifier.js';

/** One labeled line of data/triage/labeled.jsonl. */
export interface LabeledText {
  text: string;
  code: string;
  severity: string;
  /** The phrasing a line was written from; the held-out split keeps whole phrasings out of training. */
  group: string;
}

export interface Suggestion {
  code: string;
  severity: string;
  /** Normalized share of the code classifier's score for the top code (0..1). */
  confidence: number;
  severityConfidence: number;
  modelVersion: string;
  alternatives: { code: string; confidence: number }[];
}

/** Held out: every fourth phrasing of each code (by its index in the group name). */
export const isHeldOut = (row: LabeledText) => Number(row.group.split('#')[1]) % 4 === 3;

export interface TriageModelFile {
  version: string;
  library: string;
  trainedOn: number;
  code: unknown;
  severity: unknown;
}

/**
 * Suggests a canonical code and severity for free text with natural's classifiers: naive Bayes for
 * the code (9 classes, trains in about a second), logistic regression for the severity (urgency is a
 * few phrases among many words, which Bayes weighs poorly: 61 % vs 92 % held-out accuracy when chosen).
 */
export class TextClassifier {
  private constructor(
    private readonly code: BayesClassifier,
    private readonly severity: LogisticRegressionClassifier,
    readonly version: string,
  ) {}

  static train(rows: LabeledText[], library: string): { model: TextClassifier; file: TriageModelFile } {
    const code = new BayesClassifier();
    const severity = new LogisticRegressionClassifier();
    for (const r of rows) {
      code.addDocument(r.text, r.code);
      severity.addDocument(r.text, r.severity);
    }
    code.train();
    severity.train();
    const version = TextClassifier.versionFor(rows, library);
    const file: TriageModelFile = { version, library, trainedOn: rows.length, code: JSON.parse(JSON.stringify(code)), severity: JSON.parse(JSON.stringify(severity)) };
    return { model: new TextClassifier(code, severity, version), file };
  }

  /** A model's version: a hash of its training lines and the library; the build retrains only when it changes. */
  static versionFor(rows: LabeledText[], library: string): string {
    return `nb-lr-${createHash('sha256').update(JSON.stringify([library, rows])).digest('hex').slice(0, 12)}`;
  }

  static restore(file: TriageModelFile): TextClassifier {
    return new TextClassifier(BayesClassifier.restore(file.code), LogisticRegressionClassifier.restore(file.severity), file.version);
  }

  suggest(text: string): Suggestion {
    const codes = normalized(this.code.getClassifications(text));
    const sev = normalized(this.severity.getClassifications(text));
    return {
      code: codes[0].label,
      severity: sev[0].label,
      confidence: round(codes[0].value),
      severityConfidence: round(sev[0].value),
      modelVersion: this.version,
      alternatives: codes.slice(1, 3).map((c) => ({ code: c.label, confidence: round(c.value) })),
    };
  }
}

function normalized(cs: { label: string; value: number }[]) {
  const sum = cs.reduce((a, c) => a + c.value, 0) || 1;
  return cs.map((c) => ({ label: c.label, value: c.value / sum })).sort((a, b) => b.value - a.value);
}
const round = (v: number) => Math.round(v * 1000) / 1000;
