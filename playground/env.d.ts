/** The playground's virtual data module (vite.config.ts, plugin tensorgrad-playground-data). */
declare module 'virtual:playground-data' {
  /** Moby-Dick chapters 1–3. */
  export const mobyDick: string;
  /** Balanced SpamAssassin sample: label 1 spam, 0 ham. */
  export const spam: { text: string; label: number }[];
  /** URL of assets/vocab.txt (bert-base-uncased). */
  export const baseVocabUrl: string;
  /** The shipped pretrained BERT folder under assets/, or null when this build has none. */
  export const pretrained: { name: string; configUrl: string; weightsUrl: string; vocabUrl: string } | null;
}
