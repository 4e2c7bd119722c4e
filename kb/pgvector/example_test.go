package pgvector_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/kb"
	"github.com/bedrockkit/bedrockkit/kb/pgvector"
)

// WhereClause shows the SQL a filter becomes; Store.Search adds it to the
// WHERE clause of the vector query. Keys and values are parameters, so no
// filter can change the statement; in a custom plan, expression indexes on
// metadata -> 'key' still apply.
func ExampleWhereClause() {
	f := kb.AndAll(kb.Equals("type", "faq"), kb.NotIn("lang", "de", "fr"))
	sql, args, err := pgvector.WhereClause(f, "metadata", 4)
	if err != nil {
		panic(err)
	}
	fmt.Println(sql)
	fmt.Printf("%q\n", args)
	// Output:
	// (((metadata -> $4::text) = $5::jsonb) AND (NOT coalesce((metadata -> $6::text) IN ($7::jsonb, $8::jsonb), false)))
	// ["type" "\"faq\"" "lang" "\"de\"" "\"fr\""]
}

// Opening a store needs a pgxpool.Pool; see the package documentation.
// Options validate before any connection is made:
func ExampleOpen_options() {
	_, err := pgvector.Open(context.Background(), nil, pgvector.Options{Dimensions: 384})
	fmt.Println(err)
	// Output:
	// pgvector: Open needs a *pgxpool.Pool: bedrockkit: invalid input
}
