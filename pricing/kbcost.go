package pricing

import (
	"fmt"

	"github.com/bedrockkit/bedrockkit"
)

// VectorBackend names where a knowledge base's vectors live, for
// KnowledgeBaseMonthly.
type VectorBackend string

// Vector backends. Only OpenSearch Serverless (the default store of Bedrock
// Knowledge Bases) has a public price in the catalog; the others run on
// your own machine or database (kb/localindex, kb/chromem, kb/pgvector) or
// have no published price in it, and are reported unknown.
const (
	BackendOpenSearchServerless VectorBackend = "opensearch-serverless"
	BackendLocalIndex           VectorBackend = "localindex"
	BackendChromem              VectorBackend = "chromem"
	BackendPgvector             VectorBackend = "pgvector"
)

// KnowledgeBaseSize is how big a knowledge base is: what a store reports,
// or a forecast.
type KnowledgeBaseSize struct {
	// Chunks is the number of stored chunks (vectors).
	Chunks int64
	// Dimensions is the embedding size.
	Dimensions int
	// TextBytes is the stored chunk text and metadata.
	TextBytes int64
	// StoreBytes is the size the store itself reports, if it does; 0 means
	// estimate it as Chunks x Dimensions x 4 bytes (float32) plus TextBytes,
	// which leaves out index overhead (an HNSW graph adds tens of bytes per
	// vector).
	StoreBytes int64
}

// Bytes returns StoreBytes, or the estimate described there.
func (s KnowledgeBaseSize) Bytes() int64 {
	if s.StoreBytes > 0 {
		return s.StoreBytes
	}
	return s.Chunks*int64(s.Dimensions)*4 + s.TextBytes
}

// KnowledgeBaseOptions configures KnowledgeBaseMonthly.
type KnowledgeBaseOptions struct {
	// OCUs is the OpenSearch Compute Units an OpenSearch Serverless vector
	// collection runs on (indexing and search together); 0 means 2, the
	// floor with redundancy (1 with redundancy off; AWS lowered the floor
	// to half units in 2024). Collections scale up with load.
	OCUs float64
}

// StorageEstimate is the monthly cost of keeping a knowledge base.
type StorageEstimate struct {
	Backend VectorBackend
	Bytes   int64
	// Compute and Storage are the month's capacity and storage costs;
	// Total their sum. Meaningful when Known.
	Compute, Storage, Total Money
	Known                   bool
	// Reason says why the cost is unknown.
	Reason string
	// Notes state the assumptions.
	Notes []string
}

// KnowledgeBaseMonthly estimates what keeping a knowledge base of size on
// backend costs in a month of HoursPerMonth, where a public price exists
// (OpenSearch Serverless: OCU-hours plus storage). Embedding and
// generation are priced per call by the meter, not here. Self-hosted
// backends are reported unknown: their cost is your machine's or
// database's.
func (c *Catalog) KnowledgeBaseMonthly(backend VectorBackend, size KnowledgeBaseSize, o KnowledgeBaseOptions) (StorageEstimate, error) {
	if size.Chunks < 0 || size.Dimensions < 0 || size.TextBytes < 0 || size.StoreBytes < 0 {
		return StorageEstimate{}, fmt.Errorf("pricing: knowledge base size %+v: %w", size, bedrockkit.ErrInvalidInput)
	}
	est := StorageEstimate{Backend: backend, Bytes: size.Bytes()}
	switch backend {
	case BackendOpenSearchServerless:
		ocu, err := c.Service(ServiceOpenSearchServerlessOCUHour)
		if err != nil {
			est.Reason = err.Error()
			return est, nil
		}
		gb, err := c.Service(ServiceOpenSearchServerlessStorage)
		if err != nil {
			est.Reason = err.Error()
			return est, nil
		}
		ocus := o.OCUs
		if ocus <= 0 {
			ocus = 2
		}
		// OCUs are sold in half units: count half units exactly.
		halves := int64(ocus*2 + 0.5)
		compute, err := ocu.CostOf(halves*HoursPerMonth, 2)
		if err != nil {
			return StorageEstimate{}, err
		}
		storage, err := gb.CostOf(est.Bytes, 1<<30)
		if err != nil {
			return StorageEstimate{}, err
		}
		est.Compute, est.Storage, est.Total, est.Known = compute, storage, compute+storage, true
		est.Notes = []string{
			fmt.Sprintf("%.1f OCUs for %d hours at %s per OCU-hour (%s, %s); the collection scales up under load", float64(halves)/2, HoursPerMonth, ocu.Price, ocu.Source, ocu.AsOf),
			fmt.Sprintf("%d bytes at %s per GB-month (%s, %s)", est.Bytes, gb.Price, gb.Source, gb.AsOf),
		}
	case BackendLocalIndex, BackendChromem:
		est.Reason = "runs in your own process and disk: no service price"
	case BackendPgvector:
		est.Reason = "runs on your PostgreSQL: its price depends on the instance (no single public price)"
	default:
		est.Reason = fmt.Sprintf("no published price for vector backend %q in the catalog", backend)
	}
	return est, nil
}

// EmbeddingCost prices tokens embedding tokens on the embedding model
// modelID, for example the tokens a knowledge base's Sync embedded.
func (c *Catalog) EmbeddingCost(modelID string, tokens int) (Bill, error) {
	b, err := c.Cost(modelID, bedrockkit.Usage{InputTokens: tokens})
	if err != nil {
		return Bill{}, err
	}
	return b, nil
}
