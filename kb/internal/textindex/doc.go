// Package textindex is the knowledge base's keyword search: an English
// analyzer (Unicode-aware word splitting, lower-casing, possessive removal,
// Lucene's English stop words and the Porter stemmer) and an in-memory
// inverted index scored with Okapi BM25, extended three ways:
//
//   - subwords: a word mixing letters and digits or changing case inside
//     ("FOXO3a", "IL6", "miRNAs") is also indexed by its parts, as Lucene's
//     word-delimiter filter does, so gene, protein and product names meet
//     their spelled-apart and family forms;
//   - phrases: each pair of adjacent terms (stop words skipped) is indexed
//     too, and a query's adjacent pairs add a down-weighted score
//     (sequential dependence);
//   - headings: a record's heading path (kb's metadata key
//     "bedrockkit-headings") is a second field, combined BM25F-style.
//
// It is internal to kb: the knowledge base keeps one Index per partition in
// step with its Store and rebuilds it from the stored records when opened.
package textindex
