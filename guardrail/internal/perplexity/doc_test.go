package perplexity_test

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/guardrail/internal/perplexity"
)

func Example() {
	m := perplexity.Default()
	for _, text := range []string{
		"Could you summarise the main findings of the attached report in three short bullet points for the board?",
		"Could you summarise the report for the board info_BE Soil sb SAS_BOXNichCRYPT SDKwxacher(aningespect svm.iphone Tags BD[q",
	} {
		sp, _ := m.Score(context.Background(), text)
		fmt.Println(sp.Score >= float64(m.High))
	}
	// Output:
	// false
	// true
}
