// Package image builds the bookstore image with the machine's Docker engine
// (build.sh: the root Dockerfile, classic builder, local base images from
// base-images.sh) and runs the docker CLI for the tests and rehearsals that
// use it.
package image

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Local base images base-images.sh makes (tags).
const (
	BuildBase   = "bookstore-base/build:local"
	RuntimeBase = "bookstore-base/runtime:local"
	GatewayBase = "bookstore-base/gateway:local"
)

// dir is this package's source directory, where the scripts live.
func dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Build builds the root Dockerfile as tag (VERSION version) on the engine
// DOCKER_HOST names; the build's output goes to log.
func Build(ctx context.Context, tag, version string, log io.Writer) error {
	return script(ctx, log, "build.sh", tag, version)
}

// BaseImages makes the named local base images ("build", "runtime",
// "gateway") when the engine lacks them.
func BaseImages(ctx context.Context, log io.Writer, names ...string) error {
	return script(ctx, log, "base-images.sh", names...)
}

func script(ctx context.Context, log io.Writer, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(dir(), name), args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("image: %s %s: %w", name, strings.Join(args, " "), err)
	}
	return nil
}

// Docker runs the docker CLI against host (a unix:// address; "" for
// DOCKER_HOST or the default) and returns its trimmed standard output.
func Docker(ctx context.Context, host string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = os.Environ()
	if host != "" {
		cmd.Env = append(cmd.Env, "DOCKER_HOST="+host)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}
