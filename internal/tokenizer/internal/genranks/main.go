// Command genranks writes the compact merge-rank files the tokenizer embeds
// (cl100k_base.ranks, o200k_base.ranks) from the .tiktoken files published
// with OpenAI's tiktoken, as shipped by github.com/pkoukk/tiktoken-go-loader.
// Run it from internal/tokenizer with `go generate`.
//
// A .tiktoken file is one "base64(token) rank" line per token, about 7 MB
// for the four encodings that module embeds together; a program counting
// tokens would carry all of it. The compact file holds only the two
// encodings the tokenizer supports, as a DEFLATE stream of records in rank
// order: uvarint(rank - previous rank - 1), uvarint(len(token)), token.
package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/pkoukk/tiktoken-go-loader/assets"
)

func main() {
	for _, name := range []string{"cl100k_base", "o200k_base"} {
		if err := convert(name); err != nil {
			fmt.Fprintln(os.Stderr, "genranks:", err)
			os.Exit(1)
		}
	}
}

type entry struct {
	rank uint64
	tok  []byte
}

func convert(name string) error {
	data, err := assets.Assets.ReadFile(name + ".tiktoken")
	if err != nil {
		return err
	}
	var entries []entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 {
			continue
		}
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			return fmt.Errorf("%s: malformed line %q", name, line)
		}
		tok, err := base64.StdEncoding.DecodeString(string(line[:sp]))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		r, err := strconv.ParseUint(string(line[sp+1:]), 10, 32)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		entries = append(entries, entry{r, tok})
	}
	if err := sc.Err(); err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].rank < entries[j].rank })
	var raw bytes.Buffer
	next := uint64(0)
	for i, e := range entries {
		if i > 0 && e.rank < next {
			return fmt.Errorf("%s: rank %d appears twice", name, e.rank)
		}
		raw.Write(binary.AppendUvarint(nil, e.rank-next))
		raw.Write(binary.AppendUvarint(nil, uint64(len(e.tok))))
		raw.Write(e.tok)
		next = e.rank + 1
	}
	var out bytes.Buffer
	w, err := flate.NewWriter(&out, flate.BestCompression)
	if err != nil {
		return err
	}
	if _, err := w.Write(raw.Bytes()); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	fmt.Printf("%s: %d tokens, %d bytes as .tiktoken, %d as records, %d compressed\n", name, len(entries), len(data), raw.Len(), out.Len())
	return os.WriteFile(name+".ranks", out.Bytes(), 0o644)
}
