; thumbnail begin 16x16 128
; iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAJklEQVR42mPgkzHAiqbJfMCKGEY1
; 0EbDkg9Y0bQlBljRqAaaaAAArqtCEDNccs8AAAAASUVORK5CYII=
; thumbnail end
;

; temperature = 250
; thin_walls = 0
G28
