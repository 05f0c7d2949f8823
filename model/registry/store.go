package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

const (
	// EnvModelStore names the environment variable that holds the store's
	// folder for DefaultStore.
	EnvModelStore = "DFBATCH_MODEL_STORE"
	// EnvModelID names the environment variable that Resolve reads when it
	// is given no model id, as the reference client reads QWAK_MODEL_ID.
	EnvModelID = "DFBATCH_MODEL_ID"
	// DeploymentFile is the name of a deployment's configuration file; a
	// folder holding one is a deployment.
	DeploymentFile = "deployment.json"
	// LatestFile is the name of the optional file in a model's folder that
	// names its latest build.
	LatestFile = "LATEST"
)

// ErrNotFound is wrapped by the errors for a store, model or build that
// does not exist, so that a caller can tell a wrong name from a broken
// deployment.
var ErrNotFound = errors.New("not found")

// Store is a folder of models laid out as the package documentation
// describes. Its methods read the folder on every call, so a deployment
// added while a program runs is found without a restart.
type Store struct {
	// Root is the store's folder; "" is the working folder.
	Root string
}

// DefaultStore returns the store named by DFBATCH_MODEL_STORE, or ./models
// when that is unset.
func DefaultStore() Store {
	if root := os.Getenv(EnvModelStore); root != "" {
		return Store{Root: root}
	}
	return Store{Root: "models"}
}

// Resolve finds a model's deployment in the default store; see
// Store.Resolve.
func Resolve(id, buildID string) (*Deployment, error) {
	return DefaultStore().Resolve(id, buildID)
}

// Resolve finds the deployment of build buildID of model id and reads its
// configuration. An empty id is taken from DFBATCH_MODEL_ID; an empty
// buildID means the latest build. It checks deployment.json and that the
// model file exists, but does not read the model: Deployment.Loader does.
func (s Store) Resolve(id, buildID string) (*Deployment, error) {
	if id == "" {
		id = os.Getenv(EnvModelID)
	}
	if id == "" {
		return nil, fmt.Errorf("registry: no model id: give one (dfbatch run --model-id ID) or set %s; %s", EnvModelID, s.inventory())
	}
	dir, err := s.modelDir(id)
	if err != nil {
		return nil, err
	}
	builds, err := buildsIn(dir)
	if err != nil {
		return nil, err
	}
	flat := isFile(filepath.Join(dir, DeploymentFile))
	switch {
	case buildID != "":
		if !slices.Contains(builds, buildID) {
			return nil, buildNotFound(id, buildID, dir, builds, flat)
		}
	case flat && len(builds) > 0:
		return nil, fmt.Errorf("registry: %s holds %s both directly and in build folders (%s), so which one is the latest is unclear; move the top-level one into a build folder, or give a build id", dir, DeploymentFile, strings.Join(builds, ", "))
	case flat:
		// The model's own folder is its only deployment.
	case len(builds) == 0:
		return nil, fmt.Errorf("registry: model folder %s holds no %s, directly or in a build folder", dir, DeploymentFile)
	default:
		if buildID, err = latest(dir, builds); err != nil {
			return nil, err
		}
	}
	d := &Deployment{ModelID: id, BuildID: buildID, Dir: filepath.Join(dir, buildID)}
	if err := d.readConfig(); err != nil {
		return nil, err
	}
	return d, nil
}

// Models returns the ids of the store's models, those with at least one
// deployment, in natural order.
func (s Store) Models() ([]string, error) {
	entries, err := os.ReadDir(s.root())
	if err != nil {
		return nil, s.storeError(err)
	}
	var ids []string
	for _, e := range entries {
		if !folderName(e.Name()) {
			continue
		}
		dir := filepath.Join(s.root(), e.Name())
		if isFile(filepath.Join(dir, DeploymentFile)) {
			ids = append(ids, e.Name())
			continue
		}
		// A file or an unreadable folder beside the models is no model.
		if builds, err := buildsIn(dir); err == nil && len(builds) > 0 {
			ids = append(ids, e.Name())
		}
	}
	slices.SortFunc(ids, compareNatural)
	return ids, nil
}

// Builds returns the build ids of model id in natural order, so that
// without a LATEST file the last is the latest. A model with no builds has
// none.
func (s Store) Builds(id string) ([]string, error) {
	dir, err := s.modelDir(id)
	if err != nil {
		return nil, err
	}
	return buildsIn(dir)
}

func (s Store) root() string {
	if s.Root == "" {
		return "."
	}
	return s.Root
}

// modelDir returns the folder of model id, or an error listing the models
// there are.
func (s Store) modelDir(id string) (string, error) {
	dir := filepath.Join(s.root(), id)
	// A name that is not one folder of the store would reach outside it.
	if folderName(id) && isDir(dir) {
		return dir, nil
	}
	if _, err := os.Stat(s.root()); err != nil {
		return "", s.storeError(err)
	}
	return "", fmt.Errorf("registry: model %q %w; %s", id, ErrNotFound, s.inventory())
}

// inventory says what the store holds, for errors that send the user to
// pick a model.
func (s Store) inventory() string {
	ids, err := s.Models()
	switch {
	case err != nil:
		return strings.TrimPrefix(err.Error(), "registry: ")
	case len(ids) == 0:
		return fmt.Sprintf("the model store %s holds no models", s.describeRoot())
	default:
		return fmt.Sprintf("the model store %s holds: %s", s.describeRoot(), strings.Join(ids, ", "))
	}
}

func (s Store) storeError(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("registry: model store %s %w; set %s to the folder of your models", s.describeRoot(), ErrNotFound, EnvModelStore)
	}
	return fmt.Errorf("registry: reading the model store %s: %w", s.describeRoot(), err)
}

// describeRoot names the store, absolutely too when it is relative, since
// the working folder is often not what the user thinks it is.
func (s Store) describeRoot() string {
	root := s.root()
	if abs, err := filepath.Abs(root); err == nil && abs != root {
		return fmt.Sprintf("%s (%s)", root, abs)
	}
	return root
}

// buildsIn returns the build ids in model folder dir, in natural order.
func buildsIn(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	var builds []string
	for _, e := range entries {
		// Stat, not e.IsDir, so that a build may be a symbolic link.
		if folderName(e.Name()) && isFile(filepath.Join(dir, e.Name(), DeploymentFile)) {
			builds = append(builds, e.Name())
		}
	}
	slices.SortFunc(builds, compareNatural)
	return builds, nil
}

// latest returns the build that LATEST names, or else the greatest.
func latest(dir string, builds []string) (string, error) {
	path := filepath.Join(dir, LatestFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return builds[len(builds)-1], nil
	}
	if err != nil {
		return "", fmt.Errorf("registry: %w", err)
	}
	build := strings.TrimSpace(string(data))
	if !slices.Contains(builds, build) {
		return "", fmt.Errorf("registry: %s names build %q, which is not one of the builds: %s", path, build, strings.Join(builds, ", "))
	}
	return build, nil
}

func buildNotFound(id, build, dir string, builds []string, flat bool) error {
	if len(builds) == 0 && flat {
		return fmt.Errorf("registry: build %q of model %q %w: the model has no builds, its %s is directly in %s; give no build id", build, id, ErrNotFound, DeploymentFile, dir)
	}
	return fmt.Errorf("registry: build %q of model %q %w in %s; its builds: %s", build, id, ErrNotFound, dir, strings.Join(builds, ", "))
}

// folderName reports whether name is a single, visible folder name, one
// that can neither leave the folder it is joined to nor be a hidden file.
func folderName(name string) bool {
	return name != "" && !strings.HasPrefix(name, ".") && !strings.ContainsAny(name, `/\`) && filepath.IsLocal(name)
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}
