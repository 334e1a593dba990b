from astrozoo.cli import main

if __name__ == "__main__":  # not when Dask or multiprocessing (spawn) import it in a worker
    main()
