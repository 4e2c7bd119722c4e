// Package textindex is the knowledge base's keyword search: an English
// analyzer (Unicode-aware word splitting, lower-casing, possessive removal,
// Lucene's English stop words and the Porter stemmer) and an in-memory
// inverted index scored with Okapi BM25.
//
// It is internal to kb: the knowledge base keeps one Index per partition in
// step with its Store and rebuilds it from the stored records when opened.
package textindex
