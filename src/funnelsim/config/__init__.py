"""What a company is: scenario files, their schema and loading, the lever registry, where files live."""
