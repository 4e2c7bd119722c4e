//go:build race

package kb_test

// raceEnabled reports that the race detector is on; the heavy SciFact sync
// test (2.5 s normally, about 15 s with -race) then runs only when
// BEDROCKKIT_HEAVY is set.
const raceEnabled = true
