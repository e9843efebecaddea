/* replay.c: runs a fuzz target over every file of its corpus directory,
 * so `make check` replays the corpus with the regular (or ASan) build. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: replay CORPUS-DIR\n");
		return 2;
	}
	if ((d = opendir(argv[1])) == NULL) {
		printf("ok 1 - replay %s # skip no corpus\n1..1\n", argv[1]);
		return 0;
	}
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		unsigned char *buf;
		FILE *fp;
		long sz;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		if ((fp = fopen(path, "rb")) == NULL)
			continue;
		fseek(fp, 0, SEEK_END);
		sz = ftell(fp);
		rewind(fp);
		buf = malloc(sz > 0 ? (size_t)sz : 1);
		if (buf && fread(buf, 1, (size_t)sz, fp) == (size_t)sz)
			LLVMFuzzerTestOneInput(buf, (size_t)sz);
		free(buf);
		fclose(fp);
		n++;
	}
	closedir(d);
	/* Reaching here means no input crashed (a sanitizer would abort). */
	printf("ok 1 - replayed %d inputs from %s\n1..1\n", n, argv[1]);
	return 0;
}
