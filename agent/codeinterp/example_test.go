package codeinterp_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/bedrockkit/bedrockkit"
	"github.com/bedrockkit/bedrockkit/agent/codeinterp"
)

func ExampleNewLocal() {
	ctx := context.Background()
	sb, err := codeinterp.NewLocal(codeinterp.Options{}).Start(ctx)
	if err != nil {
		panic(err)
	}
	defer sb.Close(ctx)

	_ = sb.WriteFiles(ctx, codeinterp.File{Path: "tx.csv", Content: []byte("category,amount\nfood,12.40\nrent,900\nfood,7.60\n")})
	ex, err := sb.Execute(ctx, `
const rows = readFile('tx.csv').trim().split('\n').slice(1).map(l => l.split(','));
const byCat = {};
for (const [cat, amt] of rows) byCat[cat] = (byCat[cat] ?? 0) + Number(amt);
console.log(Object.entries(byCat).map(([c, v]) => c + ': ' + v.toFixed(2)).join(', '));
byCat`)
	if err != nil {
		panic(err)
	}
	fmt.Print(ex.Stdout)
	fmt.Println(string(ex.Value))
	// Output:
	// food: 20.00, rent: 900.00
	// {"food":20,"rent":900}
}

func ExampleNewTool() {
	ctx := context.Background()
	pool := codeinterp.NewPool(codeinterp.NewLocal(codeinterp.Options{}), codeinterp.PoolOptions{})
	defer pool.Close(ctx)
	tool, err := codeinterp.NewTool(pool, codeinterp.ToolOptions{})
	if err != nil {
		panic(err)
	}

	// An agent calls the tool with the model's arguments; here we call it
	// directly, as a test or a return-of-control handler would.
	parts, err := tool.Call(ctx, json.RawMessage(`{"code": "const r = 0.045 / 12; Math.round(10000 * (1 + r) ** 120 * 100) / 100"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(parts[0].(bedrockkit.JSON).Value))
	// Output:
	// {"status":"ok","value":15669.93}
}
