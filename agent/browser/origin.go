package browser

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/bedrockkit/bedrockkit"
)

// Origin is a web origin — scheme, host and port — compared the way
// browsers compare them: the scheme and host in lower case, the host in
// its ASCII (punycode) form, the port always explicit.
type Origin struct {
	Scheme string // "http" or "https"
	Host   string // a DNS name or an IP address (IPv6 without brackets)
	Port   int
}

// String returns the origin as a browser serialises it:
// "https://example.com", "http://127.0.0.1:8080".
func (o Origin) String() string {
	host := o.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if (o.Scheme == "http" && o.Port == 80) || (o.Scheme == "https" && o.Port == 443) {
		return o.Scheme + "://" + host
	}
	return o.Scheme + "://" + host + ":" + strconv.Itoa(o.Port)
}

// hostPort returns host:port, for proxy bypass rules.
func (o Origin) hostPort() string {
	return net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
}

// ParseOrigin parses an origin such as "https://example.com" or
// "http://127.0.0.1:8080". A trailing "/" is accepted; a path, query,
// fragment or user name is not, nor is a scheme other than http and https.
func ParseOrigin(s string) (Origin, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return Origin{}, fmt.Errorf("browser: origin %q: %v: %w", s, err, bedrockkit.ErrInvalidInput)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil || u.Opaque != "" {
		return Origin{}, fmt.Errorf("browser: origin %q must be scheme://host[:port] with no path, query, fragment or user: %w", s, bedrockkit.ErrInvalidInput)
	}
	o, err := originOf(u)
	if err != nil {
		return Origin{}, fmt.Errorf("browser: origin %q: %v: %w", s, err, bedrockkit.ErrInvalidInput)
	}
	return o, nil
}

// OriginOf returns the origin of an http, https, ws or wss URL (ws and wss
// count as http and https, as for WebSocket connections).
func OriginOf(rawURL string) (Origin, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return Origin{}, fmt.Errorf("browser: URL %q: %v: %w", rawURL, err, bedrockkit.ErrInvalidInput)
	}
	o, err := originOf(u)
	if err != nil {
		return Origin{}, fmt.Errorf("browser: URL %q: %v: %w", rawURL, err, bedrockkit.ErrInvalidInput)
	}
	return o, nil
}

func originOf(u *url.URL) (Origin, error) {
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	case "http", "https":
	default:
		return Origin{}, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Opaque != "" {
		return Origin{}, fmt.Errorf("not a hierarchical URL")
	}
	host := u.Hostname()
	if host == "" {
		return Origin{}, fmt.Errorf("no host")
	}
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	} else {
		if strings.ContainsAny(host, "%[]") || !utf8.ValidString(host) {
			return Origin{}, fmt.Errorf("host %q is not a valid name", host)
		}
		name := strings.TrimSuffix(host, ".")
		if emptyLabel(name) {
			return Origin{}, fmt.Errorf("host %q has an empty label", host)
		}
		ascii, err := idna.Lookup.ToASCII(name)
		if err != nil || emptyLabel(ascii) {
			return Origin{}, fmt.Errorf("host %q is not a valid name", host)
		}
		if again, err := idna.Lookup.ToASCII(ascii); err != nil || again != ascii {
			return Origin{}, fmt.Errorf("host %q is not a valid name", host)
		}
		host = strings.ToLower(ascii)
	}
	port := 80
	if scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Origin{}, fmt.Errorf("port %q is not 1 to 65535", p)
		}
		port = n
	}
	return Origin{Scheme: scheme, Host: host, Port: port}, nil
}

// emptyLabel reports whether a host name has an empty label.
func emptyLabel(name string) bool {
	return name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..")
}

// allowList is a set of origins; the zero value allows nothing.
type allowList struct {
	origins map[Origin]bool
	list    []Origin
}

func newAllowList(origins []string) (allowList, error) {
	a := allowList{origins: map[Origin]bool{}}
	for _, s := range origins {
		o, err := ParseOrigin(s)
		if err != nil {
			return allowList{}, err
		}
		if !a.origins[o] {
			a.origins[o] = true
			a.list = append(a.list, o)
		}
	}
	return a, nil
}

// allows reports whether rawURL is an http(s) or ws(s) URL of an allowed
// origin. Every other scheme (file, data, javascript, chrome, blob, ...) is
// refused.
func (a allowList) allows(rawURL string) bool {
	o, err := OriginOf(rawURL)
	return err == nil && a.origins[o]
}

// String lists the origins for messages.
func (a allowList) String() string {
	if len(a.list) == 0 {
		return "(none)"
	}
	s := make([]string, len(a.list))
	for i, o := range a.list {
		s[i] = o.String()
	}
	return strings.Join(s, ", ")
}
