package longmemory

import (
	"context"
	"fmt"

	"github.com/bedrockkit/bedrockkit/agent/identity"
)

type actorKey struct{}

// WithActor returns a context naming actor as whose memory a run reads and
// writes, for applications that identify their users themselves instead of
// through agent/identity. Call it in application code with an ID you
// trust — never with text a model produced. When the context also carries a
// verified, non-anonymous caller, the two must agree (see ActorFrom).
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor whose memory ctx's run may use:
//
//   - a verified, non-anonymous caller (agent/identity.CallerFrom): the
//     caller's identity.Caller.Namespace, or actorOf(caller) when actorOf
//     is not nil; an actor set with WithActor that differs is refused with
//     ErrActorMismatch;
//   - otherwise (no caller, or an anonymous one): the actor set with
//     WithActor, or ErrNoActor. Anonymous callers never share one memory.
//
// The actor is validated (ValidateActor).
func ActorFrom(ctx context.Context, actorOf func(*identity.Caller) (string, error)) (string, error) {
	explicit, hasExplicit := ctx.Value(actorKey{}).(string)
	var actor string
	if c, ok := identity.CallerFrom(ctx); ok && !c.Anonymous {
		if actorOf == nil {
			actor = c.Namespace()
		} else {
			a, err := actorOf(c)
			if err != nil {
				return "", fmt.Errorf("longmemory: actor of the verified caller: %w", err)
			}
			actor = a
		}
		if hasExplicit && explicit != actor {
			return "", ErrActorMismatch
		}
	} else {
		if !hasExplicit {
			return "", ErrNoActor
		}
		actor = explicit
	}
	if err := ValidateActor(actor); err != nil {
		return "", err
	}
	return actor, nil
}
