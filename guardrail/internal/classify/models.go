package classify

import (
	_ "embed"
	"sync"
)

//go:generate go run ./train -out models

//go:embed models/prompt_attack.bin
var promptAttackBin []byte

//go:embed models/hate.bin
var hateBin []byte

var (
	loadOnce           sync.Once
	promptAttack, hate *Model
)

func load() {
	var err error
	if promptAttack, err = Unmarshal(promptAttackBin); err != nil {
		panic("classify: embedded prompt_attack model: " + err.Error())
	}
	if hate, err = Unmarshal(hateBin); err != nil {
		panic("classify: embedded hate model: " + err.Error())
	}
}

// PromptAttack returns the embedded prompt-attack model.
func PromptAttack() *Model { loadOnce.Do(load); return promptAttack }

// Hate returns the embedded hate-speech model.
func Hate() *Model { loadOnce.Do(load); return hate }
