package bedrockkittest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// FakeKMS is a wire-level fake of the AWS KMS operations envelope
// encryption uses, GenerateDataKey and Decrypt, over the service's JSON
// 1.1 protocol (POST / with X-Amz-Target: TrentService.<Operation>), so
// the real SDK client can be tested against it.
//
// Keys are symmetric encryption keys made with CreateKey and named by key
// ID, key ARN, alias name or alias ARN (CreateAlias). A data key's
// ciphertext blob is bound to its key, the key material version and the
// encryption context: Decrypt with another context, a damaged blob or an
// unknown key fails with InvalidCiphertextException, with a KeyId naming
// another key with IncorrectKeyException, on a disabled key with
// DisabledException, as the service does. RotateKeyMaterial starts a new
// version of a key's material; blobs of older versions still decrypt.
// Inputs are validated with the service's constraints.
type FakeKMS struct {
	srv *httptest.Server

	mu      sync.Mutex
	keys    map[string]*fakeKMSKey // by key ID
	aliases map[string]string      // alias name -> key ID
	calls   map[string]int
	faults  map[string][]*Fault
}

type fakeKMSKey struct {
	id       string
	enabled  bool
	material [][]byte // by version; the last is current
}

const (
	fakeKMSRegion  = "us-east-1"
	fakeKMSAccount = "111122223333"
	fakeKMSMagic   = "FKMS1"
)

// NewFakeKMS starts a FakeKMS closed when the test ends.
func NewFakeKMS(t testing.TB) *FakeKMS {
	t.Helper()
	f := StartFakeKMS()
	t.Cleanup(f.Close)
	return f
}

// StartFakeKMS starts a FakeKMS outside a test; the caller must Close it.
func StartFakeKMS() *FakeKMS {
	f := &FakeKMS{keys: map[string]*fakeKMSKey{}, aliases: map[string]string{}, calls: map[string]int{}, faults: map[string][]*Fault{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// URL returns the server's base URL, for BaseEndpoint.
func (f *FakeKMS) URL() string { return f.srv.URL }

// Close shuts the server down.
func (f *FakeKMS) Close() { f.srv.Close() }

// Client returns a real KMS client for the server (us-east-1, static fake
// credentials, no retries). optFns run last.
func (f *FakeKMS) Client(optFns ...func(*kms.Options)) *kms.Client {
	return kms.New(kms.Options{
		Region:       fakeKMSRegion,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKEKMS", "fake-secret-key", ""),
		BaseEndpoint: aws.String(f.srv.URL),
		HTTPClient:   ownBodyClient{f.srv.Client()},
		Retryer:      aws.NopRetryer{},
	}, optFns...)
}

// CreateKey makes an enabled symmetric encryption key and returns its key
// ARN.
func (f *FakeKMS) CreateKey() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	k := &fakeKMSKey{id: id, enabled: true}
	k.material = append(k.material, newMaterial())
	f.keys[id] = k
	return keyARN(id)
}

func newMaterial() []byte {
	m := make([]byte, 32)
	rand.Read(m)
	return m
}

func keyARN(id string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", fakeKMSRegion, fakeKMSAccount, id)
}

// CreateAlias points the alias ("alias/name") at a key (any of its names).
func (f *FakeKMS) CreateAlias(alias, key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !strings.HasPrefix(alias, "alias/") || strings.HasPrefix(alias, "alias/aws/") {
		return fmt.Errorf("fakekms: alias %q must start with alias/ and not alias/aws/", alias)
	}
	k := f.resolve(key)
	if k == nil {
		return fmt.Errorf("fakekms: no key %q", key)
	}
	f.aliases[alias] = k.id
	return nil
}

// SetEnabled enables or disables a key (any of its names).
func (f *FakeKMS) SetEnabled(key string, enabled bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.resolve(key); k != nil {
		k.enabled = enabled
	}
}

// RotateKeyMaterial gives a key new material for new data keys, as KMS
// key rotation does; data keys under older material still decrypt.
func (f *FakeKMS) RotateKeyMaterial(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.resolve(key); k != nil {
		k.material = append(k.material, newMaterial())
	}
}

// Calls returns how many requests of the operation ("GenerateDataKey",
// "Decrypt") the server has answered, faults included.
func (f *FakeKMS) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// FailNext makes the next call of the operation fail with the fault
// (Status 0 means 400, or 500 for KMSInternalException and
// DependencyTimeoutException).
func (f *FakeKMS) FailNext(op string, fault Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[op] = append(f.faults[op], &fault)
}

// resolve finds a key by key ID, key ARN, alias name or alias ARN. Caller
// holds mu.
func (f *FakeKMS) resolve(name string) *fakeKMSKey {
	prefix := fmt.Sprintf("arn:aws:kms:%s:%s:", fakeKMSRegion, fakeKMSAccount)
	if rest, ok := strings.CutPrefix(name, prefix); ok {
		if id, ok := strings.CutPrefix(rest, "key/"); ok {
			return f.keys[id]
		}
		if strings.HasPrefix(rest, "alias/") {
			return f.keys[f.aliases[rest]]
		}
		return nil
	}
	if strings.HasPrefix(name, "alias/") {
		return f.keys[f.aliases[name]]
	}
	return f.keys[name]
}

type kmsError struct {
	code, msg string
	status    int
}

func kmsErr(code, format string, args ...any) *kmsError {
	status := http.StatusBadRequest
	if code == "KMSInternalException" || code == "DependencyTimeoutException" {
		status = http.StatusInternalServerError
	}
	return &kmsError{code: code, msg: fmt.Sprintf(format, args...), status: status}
}

func (f *FakeKMS) serve(w http.ResponseWriter, r *http.Request) {
	op, _ := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	reply := func(v any, e *kmsError) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if e != nil {
			w.Header().Set("X-Amzn-ErrorType", e.code)
			w.WriteHeader(e.status)
			json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
			return
		}
		json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		reply(nil, kmsErr("UnknownOperationException", "fakekms: %s %s is not a KMS request", r.Method, r.URL.Path))
		return
	case r.Header.Get("Content-Type") != "application/x-amz-json-1.1":
		reply(nil, kmsErr("SerializationException", "fakekms: Content-Type %q, want application/x-amz-json-1.1", r.Header.Get("Content-Type")))
		return
	case !strings.Contains(r.Header.Get("Authorization"), "/"+fakeKMSRegion+"/kms/aws4_request"):
		reply(nil, kmsErr("InvalidSignatureException", "fakekms: the request is not signed with SigV4 for kms in %s", fakeKMSRegion))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil || len(body) > 1<<20 {
		reply(nil, kmsErr("SerializationException", "fakekms: request body unreadable or over 1 MiB"))
		return
	}
	f.mu.Lock()
	f.calls[op]++
	var fault *Fault
	if q := f.faults[op]; len(q) > 0 {
		fault, f.faults[op] = q[0], q[1:]
	}
	f.mu.Unlock()
	if fault != nil {
		e := kmsErr(normalizeCode(fault.Code), "%s", fault.Message)
		if fault.Status != 0 {
			e.status = fault.Status
		}
		if e.msg == "" {
			e.msg = "fakekms: scripted " + e.code
		}
		reply(nil, e)
		return
	}
	switch op {
	case "GenerateDataKey":
		reply(f.generateDataKey(body))
	case "Decrypt":
		reply(f.decrypt(body))
	default:
		reply(nil, kmsErr("UnknownOperationException", "fakekms: operation %q is not served (GenerateDataKey, Decrypt)", op))
	}
}

// decodeInput reads a JSON request into v, refusing what the service
// refuses to deserialize.
func decodeInput(body []byte, v any) *kmsError {
	if err := json.Unmarshal(body, v); err != nil {
		return kmsErr("SerializationException", "fakekms: %v", err)
	}
	return nil
}

func checkContext(ec map[string]string) *kmsError {
	for k, v := range ec {
		if k == "" || len(k) > 4096 || len(v) > 4096 {
			return kmsErr("ValidationException", "fakekms: encryption context keys must be 1-4096 characters")
		}
	}
	return nil
}

// contextAAD is a canonical form of an encryption context.
func contextAAD(ec map[string]string) []byte {
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b []byte
	for _, k := range keys {
		b = binary.BigEndian.AppendUint32(b, uint32(len(k)))
		b = append(b, k...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(ec[k])))
		b = append(b, ec[k]...)
	}
	return b
}

func (f *FakeKMS) keyFor(name string) (*fakeKMSKey, *kmsError) {
	if name == "" || len(name) > 2048 {
		return nil, kmsErr("ValidationException", "fakekms: 1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048")
	}
	k := f.resolve(name)
	if k == nil {
		return nil, kmsErr("NotFoundException", "Invalid keyId %s", name)
	}
	if !k.enabled {
		return nil, kmsErr("DisabledException", "%s is disabled.", keyARN(k.id))
	}
	return k, nil
}

func (f *FakeKMS) generateDataKey(body []byte) (any, *kmsError) {
	var in struct {
		KeyId             string
		KeySpec           string
		NumberOfBytes     *int
		EncryptionContext map[string]string
		DryRun            bool
		Recipient         any
	}
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	n := 0
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return nil, kmsErr("ValidationException", "Please specify either number of bytes or key spec.")
	case in.KeySpec == "AES_256":
		n = 32
	case in.KeySpec == "AES_128":
		n = 16
	case in.KeySpec != "":
		return nil, kmsErr("ValidationException", "1 validation error detected: Value '%s' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]", in.KeySpec)
	case in.NumberOfBytes == nil:
		return nil, kmsErr("ValidationException", "Please specify either number of bytes or key spec.")
	case *in.NumberOfBytes < 1 || *in.NumberOfBytes > 1024:
		return nil, kmsErr("ValidationException", "1 validation error detected: Value '%d' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and 1024", *in.NumberOfBytes)
	default:
		n = *in.NumberOfBytes
	}
	if in.Recipient != nil {
		return nil, kmsErr("ValidationException", "fakekms: Recipient (Nitro Enclaves) is not served")
	}
	if e := checkContext(in.EncryptionContext); e != nil {
		return nil, e
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	k, e := f.keyFor(in.KeyId)
	if e != nil {
		return nil, e
	}
	if in.DryRun {
		return nil, kmsErr("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
	}
	dk := make([]byte, n)
	rand.Read(dk)
	version := len(k.material) - 1
	blob := append([]byte(fakeKMSMagic), byte(len(k.id)))
	blob = append(blob, k.id...)
	blob = binary.BigEndian.AppendUint32(blob, uint32(version))
	nonce := make([]byte, 12)
	rand.Read(nonce)
	blob = append(blob, nonce...)
	blob = sealKMS(k.material[version], nonce, dk, append(contextAAD(in.EncryptionContext), k.id...), blob)
	return map[string]any{"CiphertextBlob": blob, "KeyId": keyARN(k.id), "Plaintext": dk, "KeyMaterialId": materialID(k, version)}, nil
}

func materialID(k *fakeKMSKey, version int) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", k.id, version))
	return hex.EncodeToString(h[:])
}

func sealKMS(material, nonce, plaintext, aad, dst []byte) []byte {
	b, _ := aes.NewCipher(material)
	g, _ := cipher.NewGCM(b)
	return g.Seal(dst, nonce, plaintext, aad)
}

func (f *FakeKMS) decrypt(body []byte) (any, *kmsError) {
	var in struct {
		CiphertextBlob      []byte
		KeyId               string
		EncryptionContext   map[string]string
		EncryptionAlgorithm string
		DryRun              bool
		Recipient           any
	}
	if e := decodeInput(body, &in); e != nil {
		return nil, e
	}
	if len(in.CiphertextBlob) < 1 || len(in.CiphertextBlob) > 6144 {
		return nil, kmsErr("ValidationException", "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length between 1 and 6144")
	}
	switch in.EncryptionAlgorithm {
	case "", "SYMMETRIC_DEFAULT":
	case "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE":
		return nil, kmsErr("InvalidKeyUsageException", "The encryption algorithm %s is not compatible with a symmetric encryption key.", in.EncryptionAlgorithm)
	default:
		return nil, kmsErr("ValidationException", "1 validation error detected: Value '%s' at 'encryptionAlgorithm' failed to satisfy constraint", in.EncryptionAlgorithm)
	}
	if in.Recipient != nil {
		return nil, kmsErr("ValidationException", "fakekms: Recipient (Nitro Enclaves) is not served")
	}
	if e := checkContext(in.EncryptionContext); e != nil {
		return nil, e
	}
	invalid := kmsErr("InvalidCiphertextException", "")
	b := in.CiphertextBlob
	if len(b) < len(fakeKMSMagic)+1 || string(b[:len(fakeKMSMagic)]) != fakeKMSMagic {
		return nil, invalid
	}
	b = b[len(fakeKMSMagic):]
	n := int(b[0])
	if len(b) < 1+n+4+12+16 {
		return nil, invalid
	}
	id := string(b[1 : 1+n])
	version := int(binary.BigEndian.Uint32(b[1+n:]))
	nonce, ct := b[1+n+4:1+n+16], b[1+n+16:]
	f.mu.Lock()
	defer f.mu.Unlock()
	k := f.keys[id]
	if k == nil || version >= len(k.material) {
		return nil, invalid
	}
	if in.KeyId != "" {
		if len(in.KeyId) > 2048 {
			return nil, kmsErr("ValidationException", "fakekms: 1 validation error detected: Value at 'keyId' failed to satisfy constraint: Member must have length between 1 and 2048")
		}
		named := f.resolve(in.KeyId)
		if named == nil {
			return nil, kmsErr("NotFoundException", "Invalid keyId %s", in.KeyId)
		}
		if named.id != k.id {
			return nil, kmsErr("IncorrectKeyException", "The key ID in the request does not identify a KMS key that can perform this operation.")
		}
	}
	if !k.enabled {
		return nil, kmsErr("DisabledException", "%s is disabled.", keyARN(k.id))
	}
	if in.DryRun {
		return nil, kmsErr("DryRunOperationException", "The request would have succeeded, but the DryRun option is set.")
	}
	blk, _ := aes.NewCipher(k.material[version])
	g, _ := cipher.NewGCM(blk)
	dk, err := g.Open(nil, nonce, ct, append(contextAAD(in.EncryptionContext), k.id...))
	if err != nil {
		return nil, invalid
	}
	return map[string]any{"KeyId": keyARN(k.id), "Plaintext": dk, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT", "KeyMaterialId": materialID(k, version)}, nil
}
