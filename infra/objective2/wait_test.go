package objective2

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// builderStates answers getInstance with the next state each time.
type builderStates struct {
	mu     sync.Mutex
	states []string
	asked  int
}

func (b *builderStates) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	return args.Name + "-id", args.Inputs, nil
}

func (b *builderStates) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	state := b.states[min(b.asked, len(b.states)-1)]
	b.asked++
	return resource.NewPropertyMapFromMap(map[string]any{"id": args.Args["instanceId"].StringValue(), "instanceState": state}), nil
}

func waitFor(t *testing.T, states []string, timeout time.Duration) (string, *builderStates, error) {
	t.Helper()
	builderPollInterval = time.Millisecond
	t.Cleanup(func() { builderPollInterval = 15 * time.Second })
	mock := &builderStates{states: states}
	got := make(chan string, 1)
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		// An export is awaited by the run, as the AMI's input is by `pulumi up`.
		ctx.Export("source", waitUntilStopped(ctx, pulumi.ID("i-builder").ToIDOutput(), timeout).ApplyT(func(id string) string {
			got <- id
			return id
		}))
		return nil
	}, pulumi.WithMocks("bookstore", "objective2", mock))
	select {
	case id := <-got:
		return id, mock, err
	default:
		return "", mock, err
	}
}

// The AMI's source id only resolves once the builder has stopped itself:
// while it is still running (installing, checking /readyz) nothing is
// snapshotted.
func TestImageWaitsUntilTheBuilderHasStopped(t *testing.T) {
	id, mock, err := waitFor(t, []string{"pending", "running", "running", "stopping", "stopped"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if id != "i-builder" || mock.asked != 5 {
		t.Errorf("resolved %q after %d looks, want i-builder after 5", id, mock.asked)
	}
}

func TestImageWaitGivesUpWithAHint(t *testing.T) {
	id, _, err := waitFor(t, []string{"running"}, 20*time.Millisecond)
	if err == nil || id != "" {
		t.Fatalf("a builder that never stops must fail the update, got id %q, err %v", id, err)
	}
	for _, hint := range []string{"still running", "aws ssm start-session --target i-builder", "imageBuildTimeoutMinutes"} {
		if !strings.Contains(err.Error(), hint) {
			t.Errorf("error %q lacks %q", err, hint)
		}
	}
	if _, _, err := waitFor(t, []string{"running", "terminated"}, time.Minute); err == nil || !strings.Contains(err.Error(), "terminated") {
		t.Errorf("a terminated builder must fail at once, got %v", err)
	}
}
