package outfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reset forgets every write, as a new process would start.
func reset() {
	state.mu.Lock()
	defer state.mu.Unlock()
	state.temps, state.written, state.aborted = nil, nil, false
}

// entries lists dir's file names.
func entries(t *testing.T, dir string) []string {
	des, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWrite(t *testing.T) {
	boom := errors.New("disk on fire")
	tests := []struct {
		name  string
		write func(w io.Writer) error
		abort bool // Abort runs while the file is half written
		want  error
	}{
		{"complete", func(w io.Writer) error { _, err := io.WriteString(w, "all of it\n"); return err }, false, nil},
		{"fails half way", func(w io.Writer) error { io.WriteString(w, "half"); return boom }, false, boom},
		{"interrupted half way", func(w io.Writer) error { _, err := io.WriteString(w, "half"); return err }, true, ErrAborted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reset()
			defer reset()
			dir := t.TempDir()
			path := filepath.Join(dir, "out.csv")
			var left []string
			err := Write(path, func(w io.Writer) error {
				err := tt.write(w)
				require.Len(t, entries(t, dir), 1, "a temporary while writing")
				if tt.abort {
					left = Abort()
					assert.Empty(t, entries(t, dir), "Abort removes the temporary at once")
				}
				return err
			})
			assert.ErrorIs(t, err, tt.want)
			if tt.want != nil {
				assert.Empty(t, entries(t, dir), "nothing at the final path, no temporary left")
				assert.Empty(t, left, "nothing was complete")
				return
			}
			assert.Equal(t, []string{"out.csv"}, entries(t, dir), "the file under its name, no temporary left")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, "all of it\n", string(data))
			fi, err := os.Stat(path)
			require.NoError(t, err)
			plain, err := os.Create(filepath.Join(t.TempDir(), "plain"))
			require.NoError(t, err)
			pfi, err := plain.Stat()
			require.NoError(t, err)
			plain.Close()
			assert.Equal(t, pfi.Mode().Perm(), fi.Mode().Perm(), "the mode os.Create gives, not os.CreateTemp's 0600")
			assert.Equal(t, []string{path}, Abort(), "Abort reports what was complete")
		})
	}
}

// TestWriteAfterAbort: once interrupted, a command writes nothing more.
func TestWriteAfterAbort(t *testing.T) {
	reset()
	defer reset()
	dir := t.TempDir()
	Abort()
	called := false
	err := Write(filepath.Join(dir, "late.png"), func(io.Writer) error { called = true; return nil })
	assert.ErrorIs(t, err, ErrAborted)
	assert.False(t, called)
	assert.Empty(t, entries(t, dir))
}

func TestCheckFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	readOnly := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(readOnly, 0o555))
	tests := []struct {
		path string
		want string // "" for fine
	}{
		{filepath.Join(dir, "new.csv"), ""},
		{file, ""}, // replaced when the work is done
		{dir, dir + " is a directory; name a file"},
		{filepath.Join(dir, "missing", "x.csv"), "the directory " + filepath.Join(dir, "missing") + " does not exist"},
		{filepath.Join(file, "x.csv"), file + " is not a directory"},
		{filepath.Join(readOnly, "x.csv"), "cannot write into " + readOnly},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if tt.want == "cannot write into "+readOnly && os.Geteuid() == 0 {
				t.Skip("root writes into a read-only directory")
			}
			err := CheckFile(tt.path)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Equal(t, []string{"file", "ro"}, entries(t, dir), "checking leaves nothing behind")
}

func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	tests := []struct {
		dir  string
		want string
	}{
		{dir, ""},
		{filepath.Join(dir, "charts", "run1"), ""}, // created when written
		{file, file + " is not a directory"},
		{filepath.Join(file, "charts"), file + " is not a directory"},
		// procfs refuses a new file as not found: say what is wrong
		{"/proc/x", "cannot create /proc/x: /proc takes no new files (a system directory like /proc or /sys)"},
		{"/proc", "/proc takes no new files"},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if strings.HasPrefix(tt.dir, "/proc") {
				if fi, err := os.Stat("/proc/self"); err != nil || !fi.IsDir() {
					t.Skip("no procfs here")
				}
			}
			err := CheckDir(tt.dir)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	assert.Equal(t, []string{"file"}, entries(t, dir), "checking creates nothing")
}
