// natural's classifier is imported from its own file: the package index also loads natural's storage
// back ends (mongoose, redis, dotenv), which the hub does not use.
declare module 'natural/lib/natural/classifiers/bayes_classifier.js' {
  export default class BayesClassifier {
    constructor(stemmer?: unknown, smoothing?: number);
    addDocument(text: string, label: string): void;
    train(): void;
    getClassifications(text: string): { label: string; value: number }[];
    static restore(classifier: unknown, stemmer?: unknown): BayesClassifier;
  }
}

declare module 'natural/lib/natural/classifiers/logistic_regression_classifier.js' {
  export default class LogisticRegressionClassifier {
    constructor(stemmer?: unknown);
    addDocument(text: string, label: string): void;
    train(): void;
    getClassifications(text: string): { label: string; value: number }[];
    static restore(classifier: unknown, stemmer?: unknown): LogisticRegressionClassifier;
  }
}
